"""The article's worldwide flow through a client that openapi-python-client generated
from openapi/openapi.json into generated/ (see ../run).

Environment: PARTNERLINK_URL (the running service), PARTNERLINK_BIN (the service's
binary, which mints the bearer tokens with the service's own secret).
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
from http import HTTPStatus
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent / "generated"))

from partnerlink_client import AuthenticatedClient  # noqa: E402
from partnerlink_client.api.advisor import (  # noqa: E402
    get_advisor,
    get_advisor_history,
    remove_advisor,
    set_advisor,
)
from partnerlink_client.api.partners import create_partner  # noqa: E402
from partnerlink_client.api.relationships import list_partner_relationships  # noqa: E402
from partnerlink_client.api.subscriptions import purchase_subscription  # noqa: E402
from partnerlink_client.api.tenants import create_tenant  # noqa: E402
from partnerlink_client.models import (  # noqa: E402
    AdvisorAssociation,
    AdvisorHistory,
    AdvisorRequest,
    Capability,
    Cloud,
    CountryCode,
    NewPartner,
    NewTenant,
    Partner,
    PartnerKind,
    Problem,
    Purchase,
    RelationshipKind,
    RelationshipPage,
    ServiceFamily,
    Subscription,
    Tenant,
)
from partnerlink_client.types import Response  # noqa: E402

BASE_URL = os.environ.get("PARTNERLINK_URL", "http://127.0.0.1:8080")
BIN = os.environ.get("PARTNERLINK_BIN", "../../target/debug/partnerlink")


class Mismatch(Exception):
    pass


def check(condition: object, what: str) -> None:
    if not condition:
        raise Mismatch(what)


def token(*args: str) -> str:
    out = subprocess.run(
        [BIN, "token", "--sub", "example-python", *args], check=True, capture_output=True, text=True
    )
    return out.stdout.strip()


def client(bearer: str) -> AuthenticatedClient:
    return AuthenticatedClient(base_url=BASE_URL, token=bearer, raise_on_unexpected_status=True)


def expect(response: Response, status: HTTPStatus, model: type, what: str):
    """The parsed body of a response that must have this status and this model."""
    detail = response.parsed.code if isinstance(response.parsed, Problem) else ""
    check(
        response.status_code == status and isinstance(response.parsed, model),
        f"{what}: expected {status.value} {model.__name__}, got {response.status_code.value} {detail}",
    )
    return response.parsed


def expect_problem(response: Response, status: HTTPStatus, code: str, what: str) -> None:
    problem = expect(response, status, Problem, what)
    check(problem.code == code, f"{what}: expected code {code}, got {problem.code}")
    check(problem.status == status.value, f"{what}: the problem's status is {problem.status}")
    content_type = response.headers.get("content-type", "")
    check(content_type.startswith("application/problem+json"), f"{what}: content type {content_type}")


def new_partner(operator: AuthenticatedClient, mpn_id: str, kind: PartnerKind, global_mpn_id: str | None) -> None:
    body = NewPartner(
        mpn_id=mpn_id,
        kind=kind,
        global_mpn_id=global_mpn_id,
        name=f"Fabrikam {kind} {mpn_id}",
        clouds=[Cloud.WORLDWIDE],
        country_codes=[CountryCode.DK],
        service_families=[ServiceFamily.MICROSOFT365],
        capabilities=[Capability.ADVISOR] if kind == PartnerKind.LOCATION else [],
        contact_email=f"partner-{mpn_id}@example.com",
    )
    partner = expect(
        create_partner.sync_detailed(client=operator, body=body), HTTPStatus.CREATED, Partner, f"create {mpn_id}"
    )
    check(partner.mpn_id == mpn_id and partner.kind == kind, f"partner {mpn_id} as sent")


def main() -> None:
    # Distinct MPN IDs per run and per language (this one: 7xxxxxx), so scenarios share a service.
    base = 7_000_000 + random.randrange(100_000) * 10
    global_id, location_a, location_b = str(base), str(base + 1), str(base + 2)

    operator = client(token("--role", "operator"))
    tenant = expect(
        create_tenant.sync_detailed(
            client=operator,
            body=NewTenant(display_name="Contoso Python ApS", cloud=Cloud.WORLDWIDE, country_code=CountryCode.DK),
        ),
        HTTPStatus.CREATED,
        Tenant,
        "create tenant",
    )
    tenant_id = tenant.id

    new_partner(operator, global_id, PartnerKind.GLOBAL, None)
    new_partner(operator, location_a, PartnerKind.LOCATION, global_id)
    new_partner(operator, location_b, PartnerKind.LOCATION, global_id)

    admin = client(token("--role", "tenantAdmin", "--tenant", str(tenant_id)))

    # A global id does not transact (section 2).
    expect_problem(
        purchase_subscription.sync_detailed(
            tenant_id,
            client=admin,
            body=Purchase(product_id="office-365-e3", quantity=10, partner_mpn_id=global_id),
        ),
        HTTPStatus.UNPROCESSABLE_ENTITY,
        "partner_id_not_transactable",
        "buy with the global id",
    )

    # R1: buy with a partner.
    subscription = expect(
        purchase_subscription.sync_detailed(
            tenant_id,
            client=admin,
            body=Purchase(product_id="office-365-e3", quantity=10, partner_mpn_id=location_a),
        ),
        HTTPStatus.CREATED,
        Subscription,
        "purchase",
    )
    check(
        isinstance(subscription.advisor, AdvisorAssociation) and subscription.advisor.mpn_id == location_a,
        "the purchase's advisor is location A",
    )
    subscription_id = subscription.id

    # R6: the relationships list the advisor with the subscription it advises.
    page = expect(
        list_partner_relationships.sync_detailed(tenant_id, client=admin),
        HTTPStatus.OK,
        RelationshipPage,
        "list relationships",
    )
    entry = next((r for r in page.items if r.kind == RelationshipKind.ADVISOR and r.mpn_id == location_a), None)
    check(entry is not None, "an advisor relationship with location A")
    check(subscription_id in entry.subscription_ids, "it names the subscription")

    # R5: change the advisor in one step.
    changed = expect(
        set_advisor.sync_detailed(tenant_id, subscription_id, client=admin, body=AdvisorRequest(mpn_id=location_b)),
        HTTPStatus.OK,
        AdvisorAssociation,
        "change the advisor",
    )
    check(changed.mpn_id == location_b and changed.valid_to is None, "location B is current")

    history = expect(
        get_advisor_history.sync_detailed(tenant_id, subscription_id, client=admin),
        HTTPStatus.OK,
        AdvisorHistory,
        "read the history",
    )
    check(len(history.items) == 2, f"two history entries, got {len(history.items)}")
    by_mpn = {a.mpn_id: a for a in history.items}
    old, current = by_mpn.get(location_a), by_mpn.get(location_b)
    check(old is not None and current is not None, "the history holds A and B")
    check(
        old.valid_to == current.valid_from,
        f"the old one ends ({old.valid_to}) as the new one begins ({current.valid_from})",
    )
    check(current.valid_to is None, "the new association is current")

    # R7: remove the advisor; afterwards there is none.
    removed = remove_advisor.sync_detailed(tenant_id, subscription_id, client=admin)
    check(removed.status_code == HTTPStatus.NO_CONTENT, f"remove the advisor: {removed.status_code.value}")
    expect_problem(
        get_advisor.sync_detailed(tenant_id, subscription_id, client=admin),
        HTTPStatus.NOT_FOUND,
        "no_advisor",
        "the advisor after removal",
    )

    print(
        "python client (openapi-python-client): worldwide flow OK "
        f"(tenant {tenant_id}, partners {global_id}/{location_a}/{location_b})"
    )


if __name__ == "__main__":
    try:
        main()
    except Mismatch as e:
        print(f"python client scenario failed: mismatch: {e}", file=sys.stderr)
        sys.exit(1)
