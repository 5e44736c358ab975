-- The four read scenarios of the load generator, for wrk (run.sh --client wrk): a second,
-- independent HTTP client. Ids, countries and terms as loadgen/src/main.rs picks them;
-- every request carries one operator token (wrk cannot sign a token per tenant).
-- Environment: SCENARIO, TENANTS, SUBS, TOKEN, SEED, and RESULT (a file for the JSON
-- line that run.sh reads, in the load generator's fields).

local scenario = os.getenv("SCENARIO")
local tenants = tonumber(os.getenv("TENANTS"))
local subs = tonumber(os.getenv("SUBS"))
local headers = { Authorization = "Bearer " .. os.getenv("TOKEN") }

local countries = { "DK", "SE", "NO", "FI", "DE", "NL", "FR", "GB", "IE", "US", "CA", "AU",
    "JP", "ES", "IT", "PL", "BR", "IN", "SG" }
local terms = { "fabrikam", "contoso", "cloud", "digital", "northwind", "consulting",
    "copenhagen", "systems" }
-- 2024-01-02T00:00:00Z and 58 days: every subscription had an advisor then.
local history_from, history_span = 1704153600, 58 * 86400

-- bench_uuid(k, n) of load.sql; n * 2654435761 stays exact in a double for n < 2^21.
local function uuid(k, n)
    return string.format("%08x-%04x-4000-8000-%012x", (n * 2654435761) % 4294967296, k, n)
end

local function subscription_path(s)
    return "/v1/tenants/" .. uuid(1, (s - 1) % tenants + 1) .. "/subscriptions/" .. uuid(2, s)
end

local paths = {
    get_subscription = function()
        return subscription_path(math.random(1, subs))
    end,
    advisor_history_at = function()
        local at = os.date("!%Y-%m-%dT%H:%M:%SZ", history_from + math.random(0, history_span - 1))
        return subscription_path(math.random(1, subs)) .. "/advisor/history?at=" .. at
    end,
    partner_search = function()
        return "/v1/partners?country=" .. countries[math.random(1, #countries)]
            .. "&service=microsoft365&q=" .. terms[math.random(1, #terms)] .. "&limit=20"
    end,
    partner_relationships = function()
        return "/v1/tenants/" .. uuid(1, math.random(1, tenants)) .. "/partner-relationships"
    end,
}
local path = assert(paths[scenario], "SCENARIO must be one of the four reads")
math.randomseed(tonumber(os.getenv("SEED")))

request = function()
    return wrk.format("GET", path(), headers)
end

done = function(summary, latency)
    local seconds = summary.duration / 1e6
    local out = assert(io.open(os.getenv("RESULT"), "w"))
    out:write(string.format(
        '{"rps":%.1f,"p50_ms":%.3f,"p99_ms":%.3f,"total_requests":%d,"unexpected":%d,"io_errors":%d}\n',
        summary.requests / seconds, latency:percentile(50) / 1000, latency:percentile(99) / 1000,
        summary.requests, summary.errors.status,
        summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
    out:close()
end
