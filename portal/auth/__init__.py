from flask import Blueprint

# Routes are attached by portal.auth.views, imported in portal.register_blueprints.
bp = Blueprint("auth", __name__)
