"""Right-to-bid pages: thin views over right_to_bid.services."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from marketplace.authz import gate, require, require_hidden
from marketplace.errors import DomainError
from marketplace.forms import add_error
from marketplace.pagecache import public_page
from marketplace.pagination import paginate, pagination_params
from marketplace.right_to_bid import bp, permissions, rules, services
from marketplace.right_to_bid.forms import DecisionForm, ProposalForm, ServiceForm
from marketplace.right_to_bid.models import CatalogueService, Proposal


def get_service_or_404(service_id: int) -> CatalogueService:
    service = services.get_service(service_id)
    require_hidden(service is not None)
    return service


def get_proposal_or_404(proposal_id: int) -> Proposal:
    """Another organisation's proposal answers 404, as if it did not exist."""
    proposal = services.get_proposal(proposal_id)
    require_hidden(proposal is not None and permissions.can_view_proposal(current_user, proposal))
    return proposal


def _list_page(template: str, statement, **context):
    page = paginate(statement)
    return render_template(template, page=page, pagination=pagination_params(page), today=services.today(),
                           rules=rules, **context)


# The catalogue ------------------------------------------------------------------------------------------

@bp.get("")
@public_page
def catalogue():
    return _list_page("right_to_bid/catalogue.html", services.catalogue_query(),
                      can_manage=permissions.can_manage_catalogue(current_user))


@bp.get("/services/<int:service_id>")
@public_page
def service(service_id: int):
    entry = get_service_or_404(service_id)
    status = entry.window_on(services.today())
    return render_template("right_to_bid/service.html", service=entry, status=status, rules=rules,
                           can_manage=permissions.can_manage_catalogue(current_user))


def _service_details(form: ServiceForm) -> services.ServiceDetails:
    return services.ServiceDetails(
        name=form.name.data, description=form.description.data, annual_cost=form.annual_cost.data,
        locality=form.locality.data, category=form.category.data, window_opens=form.window_opens.data,
        window_closes=form.window_closes.data, next_window_opens=form.next_window_opens.data,
        next_window_closes=form.next_window_closes.data)


@bp.route("/services/new", methods=["GET", "POST"])
@gate(permissions.can_manage_catalogue)
def add_service():
    form = ServiceForm()
    if form.validate_on_submit():
        try:
            entry = services.add_service(current_user, _service_details(form))
        except DomainError as error:
            add_error(form, error)
        else:
            flash(f"{entry.name} is added to the catalogue.", "success")
            return redirect(url_for("right_to_bid.service", service_id=entry.id))
    return render_template("right_to_bid/service_form.html", form=form, service=None)


@bp.route("/services/<int:service_id>/edit", methods=["GET", "POST"])
@gate(permissions.can_manage_catalogue)
def edit_service(service_id: int):
    entry = get_service_or_404(service_id)
    form = ServiceForm() if request.method == "POST" else ServiceForm(obj=entry)
    if form.validate_on_submit():
        try:
            services.change_service(current_user, entry, _service_details(form))
        except DomainError as error:
            add_error(form, error)
        else:
            flash("The service's details are saved.", "success")
            return redirect(url_for("right_to_bid.service", service_id=entry.id))
    return render_template("right_to_bid/service_form.html", form=form, service=entry)


# Expressions of interest --------------------------------------------------------------------------------

def _proposal_details(form: ProposalForm) -> services.ProposalDetails:
    return services.ProposalDetails(
        proposer_type=form.proposer_type.data, outcomes=form.outcomes.data,
        cost_and_savings=form.cost_and_savings.data, staffing=form.staffing.data,
        social_value=form.social_value.data, capacity=form.capacity.data, evidence=form.evidence.data or "",
        financial_resources=form.financial_resources.data, capability=form.capability.data,
        effect_on_employees=form.effect_on_employees.data, staff_members=tuple(form.staff_members()))


@bp.route("/services/<int:service_id>/propose", methods=["GET", "POST"])
@login_required
def propose(service_id: int):
    entry = get_service_or_404(service_id)
    form = ProposalForm()
    form.set_proposer_types(services.proposer_types_for(current_user))
    if form.validate_on_submit():
        try:
            proposal = services.propose(current_user, entry, _proposal_details(form))
        except DomainError as error:
            add_error(form, error)
        else:
            flash(f"Your expression of interest {proposal.reference} has been sent. We have emailed you a "
                  "copy of the reference.", "success")
            return redirect(url_for("right_to_bid.proposal", proposal_id=proposal.id))
    refusal = rules.window_refusal(entry.window_on(services.today()))
    return render_template("right_to_bid/propose.html", form=form, service=entry, rules=rules,
                           refusal=refusal if not form.errors else None, decision_days=services.decision_days())


@bp.get("/proposals")
@login_required
def mine():
    return _list_page("right_to_bid/mine.html", services.mine_query(current_user))


@bp.get("/proposals/<int:proposal_id>")
@login_required
def proposal(proposal_id: int):
    found = get_proposal_or_404(proposal_id)
    return render_template("right_to_bid/proposal.html", proposal=found, rules=rules, today=services.today(),
                           can_decide=permissions.can_decide(current_user, found),
                           can_see_queue=permissions.can_see_decision_queue(current_user))


# Decisions ----------------------------------------------------------------------------------------------

@bp.get("/to-decide")
@gate(permissions.can_see_decision_queue)
def queue():
    decided = request.args.get("show") == "decided"
    return _list_page("right_to_bid/queue.html", services.decision_queue_query(decided), decided=decided)


@bp.route("/proposals/<int:proposal_id>/decide", methods=["GET", "POST"])
@gate(permissions.can_see_decision_queue)
def decide(proposal_id: int):
    found = get_proposal_or_404(proposal_id)
    require(permissions.can_decide(current_user, found))
    form = DecisionForm()
    form.set_commissioners(services.commissioners())
    if form.validate_on_submit():
        try:
            services.decide(current_user, found, _decision(form))
        except DomainError as error:
            add_error(form, error)
        else:
            flash(f"Your decision on {found.reference} is recorded and published. The proposer has been "
                  "emailed.", "success")
            return redirect(url_for("right_to_bid.proposal", proposal_id=found.id))
    return render_template("right_to_bid/decide.html", form=form, proposal=found, rules=rules,
                           today=services.today())


def _decision(form: DecisionForm) -> services.Decision:
    return services.Decision(
        decision=form.decision.data, reasons=form.reasons.data or "", ground=form.ground.data or None,
        modification=form.modification.data or None, proposer_agreed=bool(form.modification_agreed.data),
        lead_commissioner_id=form.lead_commissioner_id())


@bp.get("/decisions")
def register():
    return _list_page("right_to_bid/register.html", services.register_query())
