from flask import Blueprint

# Routes are attached by portal.withdrawal.views, imported in portal.register_blueprints.
bp = Blueprint("withdrawal", __name__)
