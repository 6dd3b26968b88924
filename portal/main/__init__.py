from flask import Blueprint

# Routes are attached by portal.main.views, imported in portal.register_blueprints.
bp = Blueprint("main", __name__)
