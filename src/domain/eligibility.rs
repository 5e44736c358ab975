//! R3: may this partner be attached to a subscription of this tenant?

use super::{Capability, Cloud, CountryCode, PartnerKind, PartnerStatus, ServiceFamily};

/// What the rule needs to know about a partner.
#[derive(Debug, Clone)]
pub struct PartnerFacts {
    pub kind: PartnerKind,
    pub status: PartnerStatus,
    pub capabilities: Vec<Capability>,
    pub clouds: Vec<Cloud>,
    pub countries: Vec<CountryCode>,
    pub services: Vec<ServiceFamily>,
}

/// The customer side: the tenant's cloud and country, and the product's family.
#[derive(Debug, Clone, Copy)]
pub struct Placement {
    pub cloud: Cloud,
    pub country: CountryCode,
    pub service: ServiceFamily,
}

/// The first condition a partner fails, in the order the article lists them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ineligible {
    /// A global (organisation) id never transacts; a location id must be used.
    GlobalId,
    Suspended,
    LacksCapability(Capability),
    Cloud(Cloud),
    Country(CountryCode),
    Service(ServiceFamily),
}

impl Ineligible {
    /// The stable name of the failed condition, for the problem's `errors`.
    pub fn condition(&self) -> &'static str {
        match self {
            Ineligible::GlobalId => "transactable",
            Ineligible::Suspended => "active",
            Ineligible::LacksCapability(_) => "capability",
            Ineligible::Cloud(_) => "cloud",
            Ineligible::Country(_) => "countryCode",
            Ineligible::Service(_) => "serviceFamily",
        }
    }

    pub fn message(&self) -> String {
        match self {
            Ineligible::GlobalId => {
                "the MPN ID is an organisation's global id; attach one of its location ids".into()
            }
            Ineligible::Suspended => "the partner is suspended".into(),
            Ineligible::LacksCapability(c) => {
                format!("the partner does not have the {c} capability")
            }
            Ineligible::Cloud(c) => {
                format!("the partner does not serve the {c} cloud of the tenant")
            }
            Ineligible::Country(c) => {
                format!("the partner does not serve the tenant's country/region {c}")
            }
            Ineligible::Service(s) => {
                format!("the partner does not serve the product's service family {s}")
            }
        }
    }
}

/// Checks every condition of R3 for acting as `capability` (advisor or reseller).
pub fn check(
    partner: &PartnerFacts,
    capability: Capability,
    at: Placement,
) -> Result<(), Ineligible> {
    check_tenant(partner, capability, at.cloud, at.country)?;
    if !partner.services.contains(&at.service) {
        return Err(Ineligible::Service(at.service));
    }
    Ok(())
}

/// The conditions of R3 that concern the tenant alone, for relationships that are not
/// about one product (reseller, delegated admin): every condition but the service family.
pub fn check_tenant(
    partner: &PartnerFacts,
    capability: Capability,
    cloud: Cloud,
    country: CountryCode,
) -> Result<(), Ineligible> {
    if partner.kind == PartnerKind::Global {
        return Err(Ineligible::GlobalId);
    }
    if partner.status != PartnerStatus::Active {
        return Err(Ineligible::Suspended);
    }
    if !partner.capabilities.contains(&capability) {
        return Err(Ineligible::LacksCapability(capability));
    }
    if !partner.clouds.contains(&cloud) {
        return Err(Ineligible::Cloud(cloud));
    }
    if !partner.countries.contains(&country) {
        return Err(Ineligible::Country(country));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts() -> PartnerFacts {
        PartnerFacts {
            kind: PartnerKind::Location,
            status: PartnerStatus::Active,
            capabilities: vec![Capability::Advisor],
            clouds: vec![Cloud::Worldwide],
            countries: vec![CountryCode::parse("DK").unwrap()],
            services: vec![ServiceFamily::Microsoft365],
        }
    }

    fn placement() -> Placement {
        Placement {
            cloud: Cloud::Worldwide,
            country: CountryCode::parse("DK").unwrap(),
            service: ServiceFamily::Microsoft365,
        }
    }

    #[test]
    fn each_condition_is_named() {
        assert_eq!(check(&facts(), Capability::Advisor, placement()), Ok(()));
        type Change = Box<dyn Fn(&mut PartnerFacts)>;
        let cases: Vec<(Change, &str)> = vec![
            (Box::new(|p| p.kind = PartnerKind::Global), "transactable"),
            (Box::new(|p| p.status = PartnerStatus::Suspended), "active"),
            (Box::new(|p| p.capabilities.clear()), "capability"),
            (Box::new(|p| p.clouds = vec![Cloud::China21Vianet]), "cloud"),
            (
                Box::new(|p| p.countries = vec![CountryCode::parse("SE").unwrap()]),
                "countryCode",
            ),
            (
                Box::new(|p| p.services = vec![ServiceFamily::Azure]),
                "serviceFamily",
            ),
        ];
        for (change, condition) in cases {
            let mut p = facts();
            change(&mut p);
            assert_eq!(
                check(&p, Capability::Advisor, placement())
                    .unwrap_err()
                    .condition(),
                condition
            );
        }
    }

    #[test]
    fn tenant_conditions_ignore_the_service_family() {
        let mut p = facts();
        p.services.clear();
        p.capabilities = vec![Capability::DelegatedAdmin];
        let dk = CountryCode::parse("DK").unwrap();
        assert_eq!(
            check_tenant(&p, Capability::DelegatedAdmin, Cloud::Worldwide, dk),
            Ok(())
        );
        assert_eq!(
            check_tenant(&p, Capability::Reseller, Cloud::Worldwide, dk),
            Err(Ineligible::LacksCapability(Capability::Reseller))
        );
        assert_eq!(
            check_tenant(&p, Capability::DelegatedAdmin, Cloud::China21Vianet, dk),
            Err(Ineligible::Cloud(Cloud::China21Vianet))
        );
    }
}
