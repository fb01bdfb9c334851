"""Clarification pages: thin views over clarifications.services."""

from __future__ import annotations

# Load the opportunities package before this package's services: its public views import those services, so
# starting from here keeps every import order working (clarifications first or opportunities first).
import marketplace.opportunities  # noqa: F401  isort: skip

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from marketplace.authz import gate, require, require_hidden
from marketplace.clarifications import bp, services
from marketplace.clarifications.forms import AnswerForm, QuestionForm
from marketplace.clarifications.models import PRIVATE, Question
from marketplace.errors import DomainError
from marketplace.extensions import db
from marketplace.forms import add_error
from marketplace.opportunities import permissions as opportunity_perms
from marketplace.opportunities.models import Opportunity
from marketplace.pagination import paginate, pagination_params
from marketplace.timeutil import utcnow


def get_opportunity_or_404(opportunity_id: int) -> Opportunity:
    """Drafts and opportunities awaiting approval answer 404 to everyone but council staff."""
    opportunity = db.session.get(Opportunity, opportunity_id)
    require_hidden(opportunity is not None and opportunity_perms.can_view(current_user, opportunity, utcnow()))
    return opportunity


def get_question_or_404(opportunity: Opportunity, question_id: int) -> Question:
    question = services.get_question(opportunity, question_id)
    require_hidden(question is not None)
    return question


def _page_context(opportunity: Opportunity) -> dict:
    return {"opportunity": opportunity, "opportunity_url": services.opportunity_url(opportunity)}


@bp.get("/opportunities/<int:opportunity_id>/questions")
def questions(opportunity_id: int):
    opportunity = get_opportunity_or_404(opportunity_id)
    page = paginate(services.visible_questions_query(opportunity, current_user))
    return render_template("clarifications/questions.html", page=page, pagination=pagination_params(page),
                           can_ask=services.can_ask(current_user),
                           closed=services.ask_refusal(opportunity, utcnow()), **_page_context(opportunity))


@bp.route("/opportunities/<int:opportunity_id>/questions/new", methods=["GET", "POST"])
@login_required
def ask(opportunity_id: int):
    opportunity = get_opportunity_or_404(opportunity_id)
    require(not current_user.is_staff)
    form = QuestionForm()
    if form.validate_on_submit():
        require(services.can_ask(current_user))
        try:
            services.ask_question(current_user, opportunity, form.text.data)
        except DomainError as error:
            add_error(form, error)
        else:
            flash("Your question has been sent. We will email your organisation when it is answered.", "success")
            return redirect(url_for("clarifications.mine", opportunity_id=opportunity.id))
    return render_template("clarifications/ask.html", form=form, can_ask=services.can_ask(current_user),
                           closed=services.ask_refusal(opportunity, utcnow()), **_page_context(opportunity))


@bp.get("/opportunities/<int:opportunity_id>/questions/yours")
@login_required
def mine(opportunity_id: int):
    opportunity = get_opportunity_or_404(opportunity_id)
    organisation_id = services.asking_organisation_id(current_user)
    require(organisation_id is not None)
    page = paginate(services.organisation_questions_query(opportunity, organisation_id))
    return render_template("clarifications/mine.html", page=page, pagination=pagination_params(page),
                           closed=services.ask_refusal(opportunity, utcnow()), **_page_context(opportunity))


@bp.get("/commissioning/opportunities/<int:opportunity_id>/questions")
@gate(services.is_council_staff)
def staff_list(opportunity_id: int):
    opportunity = get_opportunity_or_404(opportunity_id)
    page = paginate(services.staff_questions_query(opportunity))
    return render_template("clarifications/staff_list.html", page=page, pagination=pagination_params(page),
                           counts=services.question_counts(opportunity),
                           refusal=services.answer_refusal(opportunity, utcnow()), **_page_context(opportunity))


@bp.route("/commissioning/opportunities/<int:opportunity_id>/questions/<int:question_id>", methods=["GET", "POST"])
@gate(services.is_council_staff)
def answer(opportunity_id: int, question_id: int):
    opportunity = get_opportunity_or_404(opportunity_id)
    require(opportunity_perms.can_answer_questions(current_user, opportunity))
    question = get_question_or_404(opportunity, question_id)
    form = AnswerForm() if request.method == "POST" else AnswerForm(published_text=question.text)
    if not question.is_answered and form.validate_on_submit():
        try:
            services.answer_question(current_user, question, form.answer.data, form.published_text.data,
                                     form.visibility.data, form.confirm_private.data)
        except DomainError as error:
            add_error(form, error)
        else:
            flash(_answered_message(question), "success")
            return redirect(url_for("clarifications.staff_list", opportunity_id=opportunity.id))
    return render_template("clarifications/answer.html", form=form, question=question,
                           refusal=services.answer_refusal(opportunity, utcnow()), **_page_context(opportunity))


def _answered_message(question: Question) -> str:
    if question.visibility == PRIVATE:
        return "Your answer has been sent privately to the organisation that asked."
    return "Your answer is published. Everyone who saved this opportunity has been emailed."
