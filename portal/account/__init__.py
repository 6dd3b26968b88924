from flask import Blueprint

# Routes are attached by portal.account.views, imported in portal.register_blueprints.
bp = Blueprint("account", __name__)
