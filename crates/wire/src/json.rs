//! Strict JSON parsing whose errors name the field: a syntax error is `invalid_json`
//! (malformed), a wrong shape `missing_field`, `unknown_field` or `invalid_request` with the
//! path of the offending field (`indicators[0].value`).

use serde::de::DeserializeOwned;

use crate::error::WireError;

/// Parses JSON into `T`, turning serde's errors into wire errors with a field path.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, WireError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value: T = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        json_error(&path, &inner)
    })?;
    de.end().map_err(|e| json_error(".", &e))?;
    Ok(value)
}

/// Converts an already parsed JSON value into `T`; error fields start with `prefix`.
pub fn from_value<T: DeserializeOwned>(value: serde_json::Value, prefix: &str) -> Result<T, WireError> {
    serde_path_to_error::deserialize::<_, T>(value).map_err(|e| {
        let path = e.path().to_string();
        let path = if path == "." {
            prefix.to_owned()
        } else {
            format!("{prefix}.{path}")
        };
        json_error(&path, &e.into_inner())
    })
}

fn json_error(path: &str, e: &serde_json::Error) -> WireError {
    use serde_json::error::Category;
    let message = e.to_string();
    // serde_json appends " at line X column Y"; the field path says more.
    let message = message.split(" at line ").next().unwrap_or(&message).to_owned();
    match e.classify() {
        Category::Syntax | Category::Eof | Category::Io => {
            WireError::malformed("invalid_json", format!("the body is not valid JSON: {message}"))
        }
        Category::Data => {
            let base = if path == "." {
                String::new()
            } else {
                path.trim_end_matches(".").to_owned()
            };
            let join = |name: &str| {
                if base.is_empty() {
                    name.to_owned()
                } else {
                    format!("{base}.{name}")
                }
            };
            if let Some(name) = quoted(&message, "missing field `") {
                WireError::invalid("missing_field", join(name), format!("`{name}` is required"))
            } else if let Some(name) = quoted(&message, "unknown field `") {
                // The path already ends at the unknown field.
                let field = if base.is_empty() { name.to_owned() } else { base.clone() };
                WireError::invalid("unknown_field", field, message.clone())
            } else {
                WireError::invalid("invalid_request", if base.is_empty() { ".".to_owned() } else { base }, message)
            }
        }
    }
}

fn quoted<'a>(message: &'a str, prefix: &str) -> Option<&'a str> {
    message.strip_prefix(prefix).and_then(|rest| rest.split('`').next())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Outer {
        name: String,
        items: Vec<Inner>,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Inner {
        value: String,
    }

    #[test]
    fn errors_name_the_field() {
        let e = parse_json::<Outer>(br#"{"name": "x", "items": [{"value": 1}]}"#).expect_err("wrong type");
        assert_eq!((e.code, e.field.as_deref()), ("invalid_request", Some("items[0].value")));
        let e = parse_json::<Outer>(br#"{"name": "x", "items": [{}]}"#).expect_err("missing");
        assert_eq!((e.code, e.field.as_deref()), ("missing_field", Some("items[0].value")));
        let e = parse_json::<Outer>(br#"{"items": []}"#).expect_err("missing");
        assert_eq!((e.code, e.field.as_deref()), ("missing_field", Some("name")));
        let e = parse_json::<Outer>(br#"{"name": "x", "items": [], "extra": 1}"#).expect_err("unknown");
        assert_eq!((e.code, e.field.as_deref()), ("unknown_field", Some("extra")));
        let e = parse_json::<Outer>(br#"{"name": "x""#).expect_err("syntax");
        assert_eq!((e.code, e.malformed), ("invalid_json", true));
        let e = parse_json::<Outer>(br#"{"name": "x", "items": []} trailing"#).expect_err("trailing");
        assert_eq!(e.code, "invalid_json");
    }
}
