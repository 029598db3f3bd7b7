//! Matching ISO 4217 list-one entity names ("KOREA (THE REPUBLIC OF)") to ISO 3166-1 codes.

use std::collections::HashMap;

use crate::domain::text::fold;

/// Entities that are not countries: international organisations, monetary unions and the
/// `ZZnn_` technical entries. Their currencies have no country.
pub fn is_supranational(entity: &str) -> bool {
    let entity = entity.trim();
    entity.starts_with("ZZ")
        || matches!(
            entity,
            "EUROPEAN UNION"
                | "MEMBER COUNTRIES OF THE AFRICAN DEVELOPMENT BANK GROUP"
                | "INTERNATIONAL MONETARY FUND (IMF)"
                | "ARAB MONETARY FUND"
        )
        || entity.starts_with("SISTEMA UNITARIO DE COMPENSACION REGIONAL DE PAGOS")
}

/// Entity names that normalisation alone does not match to a country name.
const EXCEPTIONS: &[(&str, &str)] = &[
    // iso-codes: "Holy See (Vatican City State)".
    ("HOLY SEE (THE)", "VA"),
];

/// Canonical form of a name: accents folded, upper-case letters and digits only, the
/// article "THE" dropped, words separated by single spaces.
pub fn normalise(name: &str) -> String {
    let folded = fold(name.trim());
    folded
        .split(|ch: char| !ch.is_alphanumeric())
        .filter(|word| !word.is_empty() && *word != "the")
        .map(str::to_uppercase)
        .collect::<Vec<_>>()
        .join(" ")
}

/// Maps normalised country names to alpha-2 codes.
pub struct EntityMatcher {
    by_name: HashMap<String, String>,
}

impl EntityMatcher {
    /// `names` yields `(alpha2, name)` pairs: every name, official and common name.
    pub fn new<'a>(names: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        let by_name = names
            .into_iter()
            .map(|(alpha2, name)| (normalise(name), alpha2.to_owned()))
            .collect();
        Self { by_name }
    }

    /// Alpha-2 code of a list-one entity, or `None` when it matches no country.
    pub fn alpha2(&self, entity: &str) -> Option<String> {
        let entity = entity.trim();
        if let Some((_, alpha2)) = EXCEPTIONS.iter().find(|(name, _)| *name == entity) {
            return Some((*alpha2).to_owned());
        }
        self.by_name.get(&normalise(entity)).cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_list_one_and_iso_3166_spellings_alike() {
        assert_eq!(
            normalise("KOREA (THE DEMOCRATIC PEOPLE’S REPUBLIC OF)"),
            normalise("Korea, Democratic People's Republic of")
        );
        assert_eq!(normalise("TÜRKİYE"), normalise("Türkiye"));
        assert_eq!(
            normalise("CONGO (THE DEMOCRATIC REPUBLIC OF THE)"),
            normalise("Congo, The Democratic Republic of the")
        );
        assert_eq!(
            normalise("INTERNATIONAL MONETARY FUND (IMF)\u{a0}"),
            "INTERNATIONAL MONETARY FUND IMF"
        );
    }

    #[test]
    fn recognises_supranational_entities() {
        assert!(is_supranational("EUROPEAN UNION"));
        assert!(is_supranational("INTERNATIONAL MONETARY FUND (IMF)\u{a0}"));
        assert!(is_supranational("ZZ08_Gold"));
        assert!(is_supranational(
            "SISTEMA UNITARIO DE COMPENSACION REGIONAL DE PAGOS \"SUCRE\""
        ));
        assert!(!is_supranational("GERMANY"));
    }

    #[test]
    fn exceptions_take_precedence() {
        let matcher = EntityMatcher::new([
            ("VA", "Holy See (Vatican City State)"),
            ("TW", "Taiwan, Province of China"),
            ("DE", "Germany"),
        ]);
        assert_eq!(matcher.alpha2("HOLY SEE (THE)").as_deref(), Some("VA"));
        assert_eq!(
            matcher.alpha2("TAIWAN (PROVINCE OF CHINA)").as_deref(),
            Some("TW")
        );
        assert_eq!(matcher.alpha2("GERMANY").as_deref(), Some("DE"));
        assert_eq!(matcher.alpha2("ATLANTIS"), None);
    }
}
