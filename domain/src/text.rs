//! Texts in the three languages the system speaks.
//!
//! Kazakh (`kk`, мемлекеттік тіл) and Russian (`ru`) are the languages the acts are published in; English
//! (`en`) is our own translation for integrators. An act is often published in one language only (order
//! No 414 is Kazakh in the seeds), so any of the three may be a translation: the passport records which
//! language its act is in (`Passport::language`).

use serde::{Deserialize, Serialize};

/// A language the API can answer in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    Kk,
    Ru,
    En,
}

impl Lang {
    pub const ALL: [Lang; 3] = [Lang::Kk, Lang::Ru, Lang::En];

    pub fn code(self) -> &'static str {
        match self {
            Lang::Kk => "kk",
            Lang::Ru => "ru",
            Lang::En => "en",
        }
    }

    /// Parses a language code as used in `?lang=` or one entry of `Accept-Language` (`ru-KZ` → `ru`).
    pub fn parse(code: &str) -> Option<Lang> {
        let primary = code.trim().split(['-', '_', ';']).next()?.to_ascii_lowercase();
        match primary.as_str() {
            "kk" | "kz" => Some(Lang::Kk),
            "ru" => Some(Lang::Ru),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    /// Picks the first supported language of an `Accept-Language` header, honouring `q` weights.
    pub fn from_accept_language(header: &str) -> Option<Lang> {
        let mut candidates: Vec<(f32, usize, Lang)> = header
            .split(',')
            .enumerate()
            .filter_map(|(i, part)| {
                let mut pieces = part.split(';');
                let lang = Lang::parse(pieces.next()?)?;
                let q =
                    pieces.find_map(|p| p.trim().strip_prefix("q=").and_then(|q| q.parse::<f32>().ok())).unwrap_or(1.0);
                (q > 0.0).then_some((q, i, lang))
            })
            .collect();
        candidates.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        candidates.first().map(|c| c.2)
    }
}

/// A text in Kazakh, Russian and English. At least one language is present; the catalog validator
/// requires the act's own language and English for every text of a passport.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Text {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kk: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ru: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub en: Option<String>,
}

impl Text {
    pub fn new(kk: &str, ru: &str, en: &str) -> Self {
        Text { kk: Some(kk.into()), ru: Some(ru.into()), en: Some(en.into()) }
    }

    pub fn get(&self, lang: Lang) -> Option<&str> {
        match lang {
            Lang::Kk => self.kk.as_deref(),
            Lang::Ru => self.ru.as_deref(),
            Lang::En => self.en.as_deref(),
        }
        .filter(|s| !s.trim().is_empty())
    }

    /// The text in `lang`, or else in the first language present in the order kk, ru, en: a reader who
    /// asked for a language we lack still gets the law's own words rather than nothing.
    pub fn resolve(&self, lang: Lang) -> &str {
        self.get(lang).or_else(|| Lang::ALL.iter().find_map(|l| self.get(*l))).unwrap_or("")
    }

    pub fn is_empty(&self) -> bool {
        Lang::ALL.iter().all(|l| self.get(*l).is_none())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_language_honours_weights_and_order() {
        assert_eq!(Lang::from_accept_language("en;q=0.5, ru-KZ;q=0.9"), Some(Lang::Ru));
        assert_eq!(Lang::from_accept_language("de, kk"), Some(Lang::Kk));
        assert_eq!(Lang::from_accept_language("de, fr"), None);
        assert_eq!(Lang::from_accept_language("en, ru"), Some(Lang::En));
        assert_eq!(Lang::from_accept_language("ru;q=0, en"), Some(Lang::En));
    }

    #[test]
    fn resolve_falls_back_to_an_existing_language() {
        let t = Text { kk: Some("Анықтама".into()), ru: None, en: Some("Certificate".into()) };
        assert_eq!(t.resolve(Lang::Ru), "Анықтама");
        assert_eq!(t.resolve(Lang::En), "Certificate");
    }
}
