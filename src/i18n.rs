//! Problem texts in Danish, the language of the article partnerlink implements.
//! `code` never changes with the language; only `title` and `detail` do.

/// The language a problem is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    #[default]
    English,
    Danish,
}

impl Lang {
    pub fn tag(self) -> &'static str {
        match self {
            Lang::English => "en",
            Lang::Danish => "da",
        }
    }

    /// Picks Danish when `Accept-Language` prefers it to English (RFC 9110 weights);
    /// English otherwise.
    pub fn negotiate(header: Option<&str>) -> Self {
        let Some(header) = header else {
            return Lang::English;
        };
        let (mut da, mut en, mut any) = (None::<f32>, None::<f32>, None::<f32>);
        for item in header.split(',') {
            let mut parts = item.split(';');
            let range = parts.next().unwrap_or("").trim().to_ascii_lowercase();
            let q = parts
                .filter_map(|p| p.trim().strip_prefix("q="))
                .find_map(|q| q.trim().parse::<f32>().ok())
                .unwrap_or(1.0)
                .clamp(0.0, 1.0);
            let primary = range.split('-').next().unwrap_or("");
            let slot = match primary {
                "da" => &mut da,
                "en" => &mut en,
                "*" => &mut any,
                _ => continue,
            };
            *slot = Some(slot.map_or(q, |old| old.max(q)));
        }
        let da = da.or(any).unwrap_or(0.0);
        let en = en.or(any).unwrap_or(0.0);
        if da > 0.0 && da > en {
            Lang::Danish
        } else {
            Lang::English
        }
    }
}

/// Danish title and a Danish explanation for a problem code; `None` keeps English.
pub fn danish(code: &str) -> Option<(&'static str, &'static str)> {
    Some(match code {
        "invalid_mpn_id" => ("Ugyldigt MPN-id", "MPN-id'et er ugyldigt: det skal være 5 til 10 cifre uden foranstillet nul og højst 2147483647."),
        "validation_failed" => ("Valideringen mislykkedes", "Et eller flere felter eller parametre er ugyldige; se errors."),
        "malformed_json" => ("Ugyldig JSON", "Forespørgslens indhold er ikke gyldig JSON."),
        "unsupported_media_type" => ("Medietypen understøttes ikke", "Forespørgslens indhold skal være JSON (Content-Type: application/json)."),
        "payload_too_large" => ("Indholdet er for stort", "Forespørgslens indhold er større end tilladt."),
        "headers_too_large" => ("Headerfelterne er for store", "Forespørgslens headere fylder mere end tilladt."),
        "unauthorized" => ("Ikke godkendt", "Der kræves et gyldigt bearer-token i Authorization-headeren."),
        "forbidden" => ("Adgang nægtet", "Dine roller giver ikke adgang til denne handling."),
        "not_found" => ("Ikke fundet", "Ressourcen findes ikke, eller du har ikke adgang til den."),
        "method_not_allowed" => ("Metoden er ikke tilladt", "Denne HTTP-metode kan ikke bruges på denne adresse; se Allow-headeren."),
        "conflict" => ("Konflikt", "Handlingen er i konflikt med ressourcens nuværende tilstand."),
        "service_unavailable" => ("Tjenesten er ikke tilgængelig", "Databasen er midlertidigt utilgængelig; prøv igen efter Retry-After sekunder."),
        "request_timeout" => ("Forespørgslen tog for lang tid", "Forespørgslen blev ikke besvaret i tide; en ændring, den bad om, kan alligevel være gennemført. Læs ressourcen, før du prøver igen, eller gentag et køb med samme Idempotency-Key."),
        "internal_error" => ("Intern serverfejl", "Der opstod en intern fejl; oplys requestId, hvis du rapporterer den."),
        "no_advisor" => ("Ingen rådgiver", "Abonnementet har ingen rådgiverpartner."),
        "partner_not_found" => ("Partneren findes ikke", "Der er ingen partner med dette MPN-id."),
        "partner_not_eligible" => ("Partneren opfylder ikke betingelserne", "Partneren skal være aktiv, kunne være rådgiver og betjene lejerens cloud, land/område og produktets tjenester; se errors for den betingelse, der ikke er opfyldt."),
        "partner_id_not_transactable" => ("Partner-id'et kan ikke bruges", "Et globalt MPN-id kan ikke tilknyttes; brug et af organisationens lokations-id'er."),
        "partner_initiated_only" => ("Kun partneren kan tage initiativet", "I Office 365, der drives af 21Vianet, sender partneren en invitation, som lejeren accepterer."),
        "precondition_failed" => ("Forudsætningen er ikke opfyldt", "Ressourcen er ændret siden den ETag, der er angivet i If-Match."),
        "idempotency_key_reused" => ("Idempotensnøglen er allerede brugt", "Denne Idempotency-Key er brugt til en anden forespørgsel."),
        "invalid_transition" => ("Ugyldig statusændring", "Abonnementet kan ikke skifte til den ønskede status."),
        "reseller_removal_requires_partner" => ("Forhandleren skal selv fjerne relationen", "Du kan ikke selv slette en forhandlerrelation. Bed forhandleren om at fjerne den."),
        "advisor_relationship_is_per_subscription" => ("Rådgiverrelationen gælder pr. abonnement", "En rådgiverpartner fjernes fra det enkelte abonnement: DELETE /v1/tenants/{tenantId}/subscriptions/{subscriptionId}/advisor."),
        "invitation_expired" => ("Invitationen er udløbet", "Invitationen er udløbet; bed partneren om en ny."),
        "invitation_not_pending" => ("Invitationen er ikke længere åben", "Invitationen er allerede besvaret eller tilbagekaldt."),
        "invalid_token" => ("Ugyldigt token", "Invitationens token er forkert."),
        "reseller_has_active_subscriptions" => ("Forhandleren har aktive abonnementer", "Relationen kan først fjernes, når abonnementerne købt gennem forhandleren er suspenderet eller annulleret; se errors."),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_spec_code_has_danish() {
        for code in [
            "invalid_mpn_id",
            "validation_failed",
            "not_found",
            "no_advisor",
            "partner_not_found",
            "partner_not_eligible",
            "partner_id_not_transactable",
            "partner_initiated_only",
            "reseller_removal_requires_partner",
            "advisor_relationship_is_per_subscription",
            "invitation_expired",
            "invitation_not_pending",
            "invalid_token",
            "precondition_failed",
            "idempotency_key_reused",
            "invalid_transition",
            "reseller_has_active_subscriptions",
            "conflict",
            "unauthorized",
            "forbidden",
            "malformed_json",
            "unsupported_media_type",
            "payload_too_large",
            "headers_too_large",
            "method_not_allowed",
            "service_unavailable",
            "request_timeout",
            "internal_error",
        ] {
            assert!(danish(code).is_some(), "{code}");
        }
    }

    #[test]
    fn negotiates_by_weight() {
        assert_eq!(Lang::negotiate(None), Lang::English);
        assert_eq!(Lang::negotiate(Some("da")), Lang::Danish);
        assert_eq!(Lang::negotiate(Some("da-DK, en;q=0.8")), Lang::Danish);
        assert_eq!(Lang::negotiate(Some("en, da;q=0.9")), Lang::English);
        assert_eq!(Lang::negotiate(Some("fr, da;q=0.5")), Lang::Danish);
        assert_eq!(Lang::negotiate(Some("da;q=0")), Lang::English);
        assert_eq!(Lang::negotiate(Some("*")), Lang::English);
        assert_eq!(Lang::negotiate(Some("garbage;;q=x,,")), Lang::English);
    }
}
