from flask import render_template
from flask_login import current_user

from marketplace.pages import bp


@bp.get("/")
def home():
    return render_template("pages/home.html", user=current_user)


@bp.get("/cookies-and-privacy")
def cookies():
    return render_template("pages/cookies.html")


@bp.get("/accessibility")
def accessibility():
    return render_template("pages/accessibility.html")
