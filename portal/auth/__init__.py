from flask import Blueprint

# Routes are attached by portal.auth.views (sign-in) and portal.auth.account_views (the
# signed-in customer's security pages), imported in portal.register_blueprints.
bp = Blueprint("auth", __name__)
