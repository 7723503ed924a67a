//! Homoglyph checks on host names: letters from several scripts in one label, or a label
//! written entirely in non-Latin letters that look like Latin ones (`аpple` with a Cyrillic
//! `а`). Both are classic tricks of phishing domains.

use unicode_script::{Script, UnicodeScript};

/// What the homoglyph check found in a Unicode host name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ScriptFindings {
    pub mixed_script: bool,
    pub confusable: bool,
}

/// Scripts that are normally written together count as one; Japanese mixes three of them.
fn script_group(script: Script) -> Option<Script> {
    match script {
        Script::Common | Script::Inherited | Script::Unknown => None,
        Script::Hiragana | Script::Katakana | Script::Bopomofo | Script::Hangul => Some(Script::Han),
        other => Some(other),
    }
}

/// Cyrillic and Greek letters that are hard to tell from Latin ones in most fonts.
const LATIN_LOOKALIKES: &str = "аеорсухіјѕԁһԛԝүӏвкмнтΑΒΕΖΗΙΚΜΝΟΡΤΥΧαικνορτυχ";

/// Checks every label of a host name written in Unicode.
pub fn inspect_host(unicode_host: &str) -> ScriptFindings {
    let mut findings = ScriptFindings::default();
    let labels: Vec<&str> = unicode_host.split('.').collect();
    let tld_is_latin = labels.last().is_none_or(|tld| tld.is_ascii());
    for label in &labels {
        let mut first: Option<Script> = None;
        let mut letters = 0usize;
        let mut lookalikes = 0usize;
        for c in label.chars() {
            let Some(group) = script_group(c.script()) else {
                continue;
            };
            letters += 1;
            if LATIN_LOOKALIKES.contains(c) {
                lookalikes += 1;
            }
            match first {
                None => first = Some(group),
                Some(seen) if seen != group => findings.mixed_script = true,
                Some(_) => {}
            }
        }
        let non_latin = matches!(first, Some(Script::Cyrillic | Script::Greek));
        if non_latin && letters > 0 && lookalikes == letters && tld_is_latin {
            findings.confusable = true;
        }
    }
    findings
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_mixed_scripts_and_lookalikes() {
        assert_eq!(inspect_host("example.nl"), ScriptFindings::default());
        assert!(inspect_host("аpple.com").mixed_script, "Cyrillic a among Latin letters");
        assert!(inspect_host("іпg.nl").mixed_script || inspect_host("іпg.nl").confusable);
        let all_cyrillic = inspect_host("рауре.com");
        assert!(all_cyrillic.confusable && !all_cyrillic.mixed_script);
        assert_eq!(inspect_host("пример.рф"), ScriptFindings::default(), "a real Cyrillic domain");
        assert_eq!(
            inspect_host("日本語のドメイン.jp"),
            ScriptFindings::default(),
            "Japanese mixes scripts by nature"
        );
    }
}
