"""Account pages: thin views that parse, call one service, and render or redirect."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required, login_user, logout_user

from marketplace.accounts import bp, services
from marketplace.accounts.forms import (
    ChangePasswordForm,
    EmailOnlyForm,
    NewPasswordForm,
    RegisterForm,
    SignInForm,
)
from marketplace.errors import DomainError
from marketplace.extensions import limiter
from marketplace.forms import add_error


def _sign_in_limit() -> str:
    return current_app.config["SIGN_IN_RATE_LIMIT"]


def _safe_next(target: str | None) -> str:
    """Only follow a relative path on this site after sign-in."""
    if target and target.startswith("/") and not target.startswith("//") and not urlsplit(target).netloc:
        return target
    return url_for("pages.home")


@bp.route("/register", methods=["GET", "POST"])
@limiter.limit(_sign_in_limit, methods=["POST"])
def register():
    if current_user.is_authenticated:
        return redirect(url_for("pages.home"))
    form = RegisterForm()
    if form.validate_on_submit():
        try:
            user = services.register_provider(form.email.data, form.full_name.data, form.password.data)
        except DomainError as error:
            add_error(form, error)
        else:
            session["pending_email"] = user.email
            return redirect(url_for("accounts.check_email"))
    return render_template("accounts/register.html", form=form)


@bp.get("/register/check-your-email")
def check_email():
    return render_template("accounts/check_email.html", email=session.get("pending_email"),
                           form=EmailOnlyForm(email=session.get("pending_email")))


@bp.post("/register/resend")
@limiter.limit(_sign_in_limit)
def resend_verification():
    form = EmailOnlyForm()
    if form.validate_on_submit():
        services.resend_verification(form.email.data)
        flash("If that address has an account waiting for confirmation, we have sent a new link.", "success")
        session["pending_email"] = form.email.data
        return redirect(url_for("accounts.check_email"))
    return render_template("accounts/check_email.html", email=session.get("pending_email"), form=form)


@bp.get("/verify/<token>")
def verify_email(token: str):
    try:
        user = services.verify_email(token)
    except services.LinkProblem as problem:
        return render_template("accounts/link_problem.html", problem=problem,
                               retry_endpoint="accounts.check_email"), 400
    flash("Your email address is confirmed.", "success")
    if not current_user.is_authenticated:
        login_user(user)
    return redirect(url_for("organisations.mine"))


@bp.route("/sign-in", methods=["GET", "POST"])
@limiter.limit(_sign_in_limit, methods=["POST"])
def sign_in():
    if current_user.is_authenticated:
        return redirect(url_for("pages.home"))
    form = SignInForm()
    if form.validate_on_submit():
        try:
            user = services.authenticate(form.email.data, form.password.data)
        except services.SignInRefused as refused:
            add_error(form, DomainError(refused.message, "email"))
        else:
            session.clear()
            login_user(user)
            session.permanent = True
            return redirect(_safe_next(request.args.get("next")))
    return render_template("accounts/sign_in.html", form=form)


@bp.post("/sign-out")
def sign_out():
    logout_user()
    session.clear()
    flash("You have signed out.", "success")
    return redirect(url_for("pages.home"))


@bp.route("/forgot-password", methods=["GET", "POST"])
@limiter.limit(_sign_in_limit, methods=["POST"])
def forgot_password():
    form = EmailOnlyForm()
    if form.validate_on_submit():
        services.request_password_reset(form.email.data)
        return render_template("accounts/reset_sent.html", email=form.email.data)
    return render_template("accounts/forgot_password.html", form=form)


@bp.route("/reset-password/<token>", methods=["GET", "POST"])
def reset_password(token: str):
    try:
        services.check_reset_link(token)
    except services.LinkProblem as problem:
        return render_template("accounts/link_problem.html", problem=problem,
                               retry_endpoint="accounts.forgot_password"), 400
    form = NewPasswordForm()
    if form.validate_on_submit():
        services.reset_password(token, form.password.data)
        logout_user()
        flash("Your password has been changed. Sign in with your new password.", "success")
        return redirect(url_for("accounts.sign_in"))
    return render_template("accounts/new_password.html", form=form, title="Reset your password")


@bp.route("/invitation/<token>", methods=["GET", "POST"])
def accept_invitation(token: str):
    try:
        user = services.check_staff_invitation(token)
    except services.LinkProblem as problem:
        return render_template("accounts/link_problem.html", problem=problem, retry_endpoint=None), 400
    form = NewPasswordForm()
    if form.validate_on_submit():
        user = services.accept_staff_invitation(token, form.password.data)
        login_user(user)
        flash("Your account is ready.", "success")
        return redirect(url_for("pages.home"))
    return render_template("accounts/new_password.html", form=form, title="Set your password", invited=user)


@bp.get("/account")
@login_required
def account():
    return render_template("accounts/account.html", user=current_user)


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        try:
            # The real user, not the proxy: login_user(proxy) would make current_user point at itself.
            user = services.change_password(current_user._get_current_object(), form.current_password.data,
                                            form.password.data)
        except DomainError as error:
            add_error(form, error)
        else:
            login_user(user)  # the session id changed with the version
            flash("Your password has been changed.", "success")
            return redirect(url_for("accounts.account"))
    return render_template("accounts/change_password.html", form=form)
