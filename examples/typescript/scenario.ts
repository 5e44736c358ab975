// The article's worldwide flow through a client generated from openapi/openapi.json:
// types by openapi-typescript (generated/partnerlink.d.ts), calls by openapi-fetch.
//
// Environment: PARTNERLINK_URL (the running service), PARTNERLINK_BIN (the service's
// binary, which mints the bearer tokens with the service's own secret).
import { execFileSync } from "node:child_process";
import { randomInt } from "node:crypto";
import createClient from "openapi-fetch";
import type { components, paths } from "./generated/partnerlink";

type Problem = components["schemas"]["Problem"];

const baseUrl = process.env.PARTNERLINK_URL ?? "http://127.0.0.1:8080";
const bin = process.env.PARTNERLINK_BIN ?? "../../target/debug/partnerlink";

function token(...args: string[]): string {
  return execFileSync(bin, ["token", "--sub", "example-typescript", ...args], {
    encoding: "utf8",
  }).trim();
}

function client(bearer: string) {
  return createClient<paths>({ baseUrl, headers: { Authorization: `Bearer ${bearer}` } });
}

function check(condition: unknown, what: string): asserts condition {
  if (!condition) {
    throw new Error(`mismatch: ${what}`);
  }
}

function expectProblem(error: Problem | undefined, status: number, code: string, what: string) {
  check(error !== undefined, `${what}: expected a problem, got success`);
  check(
    error.status === status && error.code === code,
    `${what}: expected ${status} ${code}, got ${error.status} ${error.code}`,
  );
}

async function main() {
  // Distinct MPN IDs per run and per language (this one: 6xxxxxx), so scenarios share a service.
  const base = 6_000_000 + randomInt(0, 99_999) * 10;
  const globalId = String(base);
  const locationA = String(base + 1);
  const locationB = String(base + 2);

  const operator = client(token("--role", "operator"));

  const tenant = await operator.POST("/v1/tenants", {
    body: { displayName: "Contoso TypeScript ApS", cloud: "worldwide", countryCode: "DK" },
  });
  check(tenant.data, `create tenant: ${tenant.response.status}`);
  const tenantId = tenant.data.id;

  await createPartner(operator, globalId, "global", null);
  await createPartner(operator, locationA, "location", globalId);
  await createPartner(operator, locationB, "location", globalId);

  const admin = client(token("--role", "tenantAdmin", "--tenant", tenantId));
  const tenantPath = { params: { path: { tenantId } } };

  // A global id does not transact (section 2).
  const refused = await admin.POST("/v1/tenants/{tenantId}/subscriptions", {
    ...tenantPath,
    body: { productId: "office-365-e3", quantity: 10, partnerMpnId: globalId },
  });
  expectProblem(refused.error, 422, "partner_id_not_transactable", "buy with the global id");

  // R1: buy with a partner.
  const bought = await admin.POST("/v1/tenants/{tenantId}/subscriptions", {
    ...tenantPath,
    body: { productId: "office-365-e3", quantity: 10, partnerMpnId: locationA },
  });
  check(bought.data, `purchase: ${bought.response.status}`);
  check(bought.data.advisor?.mpnId === locationA, "the purchase's advisor is location A");
  const subscriptionId = bought.data.id;
  const subscriptionPath = { params: { path: { tenantId, subscriptionId } } };

  // R6: the relationships list the advisor with the subscription it advises.
  const relationships = await admin.GET("/v1/tenants/{tenantId}/partner-relationships", tenantPath);
  check(relationships.data, `list relationships: ${relationships.response.status}`);
  const advisorEntry = relationships.data.items.find(
    (r) => r.kind === "advisor" && r.mpnId === locationA,
  );
  check(advisorEntry, "an advisor relationship with location A");
  check(advisorEntry.subscriptionIds.includes(subscriptionId), "it names the subscription");

  // R5: change the advisor in one step.
  const changed = await admin.PUT("/v1/tenants/{tenantId}/subscriptions/{subscriptionId}/advisor", {
    ...subscriptionPath,
    body: { mpnId: locationB },
  });
  check(changed.data, `change the advisor: ${changed.response.status}`);
  check(changed.data.mpnId === locationB && changed.data.validTo == null, "location B is current");

  const history = await admin.GET(
    "/v1/tenants/{tenantId}/subscriptions/{subscriptionId}/advisor/history",
    subscriptionPath,
  );
  check(history.data, `read the history: ${history.response.status}`);
  const items = history.data.items;
  check(items.length === 2, `two history entries, got ${items.length}`);
  const old = items.find((a) => a.mpnId === locationA);
  const current = items.find((a) => a.mpnId === locationB);
  check(old && current, "the history holds A and B");
  check(old.validTo != null, "the old association has ended");
  check(
    Date.parse(old.validTo) === Date.parse(current.validFrom),
    `the old one ends (${old.validTo}) as the new one begins (${current.validFrom})`,
  );
  check(current.validTo == null, "the new association is current");

  // R7: remove the advisor; afterwards there is none.
  const removed = await admin.DELETE(
    "/v1/tenants/{tenantId}/subscriptions/{subscriptionId}/advisor",
    subscriptionPath,
  );
  check(removed.response.status === 204, `remove the advisor: ${removed.response.status}`);
  const none = await admin.GET("/v1/tenants/{tenantId}/subscriptions/{subscriptionId}/advisor", subscriptionPath);
  expectProblem(none.error, 404, "no_advisor", "the advisor after removal");
  check(
    none.response.headers.get("content-type")?.startsWith("application/problem+json"),
    "a problem is application/problem+json",
  );

  console.log(
    `typescript client (openapi-typescript + openapi-fetch): worldwide flow OK (tenant ${tenantId}, partners ${globalId}/${locationA}/${locationB})`,
  );
}

async function createPartner(
  operator: ReturnType<typeof client>,
  mpnId: string,
  kind: components["schemas"]["PartnerKind"],
  globalMpnId: string | null,
) {
  const created = await operator.POST("/v1/partners", {
    body: {
      mpnId,
      kind,
      globalMpnId,
      name: `Fabrikam ${kind} ${mpnId}`,
      clouds: ["worldwide"],
      countryCodes: ["DK"],
      serviceFamilies: ["microsoft365"],
      capabilities: kind === "location" ? ["advisor"] : [],
      contactEmail: `partner-${mpnId}@example.com`,
    },
  });
  check(created.data, `create partner ${mpnId}: ${created.response.status} ${created.error?.code}`);
  check(created.data.mpnId === mpnId && created.data.kind === kind, `partner ${mpnId} as sent`);
}

main().catch((e: unknown) => {
  console.error(`typescript client scenario failed: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
});
