from flask import Blueprint

# Routes are attached by portal.policy.views, imported in portal.register_blueprints.
bp = Blueprint("policy", __name__)
