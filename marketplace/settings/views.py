"""Settings page: administrators change thresholds and periods (each change audited by the service)."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user

from marketplace.accounts import permissions as perms
from marketplace.authz import gate
from marketplace.errors import DomainError
from marketplace.extensions import db
from marketplace.forms import add_error
from marketplace.settings import bp, services
from marketplace.settings.defaults import SPECS
from marketplace.settings.forms import SettingsForm, settings_form, typed_values


@bp.route("", methods=["GET", "POST"])
@gate(perms.can_administer)
def edit():
    current = services.all_values()
    form = SettingsForm() if request.method == "POST" else settings_form(current)
    if form.validate_on_submit():
        try:
            services.update(current_user, typed_values(form))
        except DomainError as error:
            db.session.rollback()
            add_error(form, error)
        else:
            flash("The settings are saved.", "success")
            return redirect(url_for("settings.edit"))
    return render_template("settings/edit.html", form=form, specs=SPECS, current=current)
