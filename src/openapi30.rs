//! An OpenAPI 3.0 rendition of the 3.1 document, for generators that read only 3.0
//! (Rust's progenitor among them). Produced from the same document, so it cannot drift.

use serde_json::{Map, Value};

/// The 3.0.3 rendition of `openapi::document()`.
pub fn document() -> Value {
    downgrade(serde_json::to_value(crate::openapi::document()).unwrap_or(Value::Null))
}

/// Rewrites the 3.1 constructs utoipa emits into their 3.0 equivalents.
pub fn downgrade(mut doc: Value) -> Value {
    if let Some(root) = doc.as_object_mut() {
        root.insert("openapi".into(), Value::String("3.0.3".into()));
        if let Some(license) = root
            .get_mut("info")
            .and_then(|i| i.get_mut("license"))
            .and_then(Value::as_object_mut)
        {
            // 3.0 has no SPDX `identifier`; its `url` is optional.
            license.remove("identifier");
        }
    }
    walk(&mut doc);
    let types: Map<String, Value> = doc
        .pointer("/components/schemas")
        .and_then(Value::as_object)
        .map(|schemas| {
            schemas
                .iter()
                .filter_map(|(name, schema)| Some((name.clone(), schema.get("type")?.clone())))
                .collect()
        })
        .unwrap_or_default();
    type_nullable_references(&mut doc, &types);
    doc
}

/// 3.0 ignores `nullable` without a `type` (validators reject the schema): give a nullable
/// `allOf: [$ref]` the type of the schema it refers to.
fn type_nullable_references(value: &mut Value, types: &Map<String, Value>) {
    match value {
        Value::Object(map) => {
            if map.get("nullable") == Some(&Value::Bool(true)) && !map.contains_key("type") {
                let target = map
                    .get("allOf")
                    .and_then(|all| all.get(0))
                    .and_then(|first| first.get("$ref"))
                    .and_then(Value::as_str)
                    .and_then(|r| r.strip_prefix("#/components/schemas/"))
                    .and_then(|name| types.get(name))
                    .cloned();
                if let Some(schema_type) = target {
                    map.insert("type".into(), schema_type);
                }
            }
            for child in map.values_mut() {
                type_nullable_references(child, types);
            }
        }
        Value::Array(items) => items
            .iter_mut()
            .for_each(|v| type_nullable_references(v, types)),
        _ => {}
    }
}

fn walk(value: &mut Value) {
    match value {
        Value::Object(map) => {
            rewrite_schema(map);
            for child in map.values_mut() {
                walk(child);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(walk),
        _ => {}
    }
}

fn is_null_type(v: &Value) -> bool {
    v.get("type").and_then(Value::as_str) == Some("null")
}

fn rewrite_schema(map: &mut Map<String, Value>) {
    // `type: [T, "null"]` → `type: T, nullable: true`.
    if let Some(Value::Array(types)) = map.get("type") {
        let others: Vec<Value> = types
            .iter()
            .filter(|t| t.as_str() != Some("null"))
            .cloned()
            .collect();
        let nullable = others.len() < types.len();
        if let [single] = others.as_slice() {
            map.insert("type".into(), single.clone());
            if nullable {
                map.insert("nullable".into(), Value::Bool(true));
            }
        }
    }
    // `oneOf: [X, {type: null}]` → X made nullable; a reference goes under `allOf`,
    // because 3.0 ignores the siblings of `$ref`.
    for key in ["oneOf", "anyOf"] {
        let Some(Value::Array(variants)) = map.get(key) else {
            continue;
        };
        let others: Vec<Value> = variants
            .iter()
            .filter(|v| !is_null_type(v))
            .cloned()
            .collect();
        if others.len() + 1 != variants.len() || others.len() != 1 {
            continue;
        }
        map.remove(key);
        let Some(Value::Object(mut inner)) = others.into_iter().next() else {
            continue;
        };
        if let Some(reference) = inner.remove("$ref") {
            let mut wrapped = Map::new();
            wrapped.insert("$ref".into(), reference);
            map.insert("allOf".into(), Value::Array(vec![Value::Object(wrapped)]));
        }
        for (k, v) in inner {
            map.entry(k).or_insert(v);
        }
        map.insert("nullable".into(), Value::Bool(true));
    }
    // 3.0 ignores the siblings of `$ref` (a description, say): keep them beside an `allOf`.
    if map.len() > 1 {
        if let Some(reference) = map.remove("$ref") {
            let mut wrapped = Map::new();
            wrapped.insert("$ref".into(), reference);
            map.insert("allOf".into(), Value::Array(vec![Value::Object(wrapped)]));
        }
    }
    // JSON Schema `examples: [..]` → OpenAPI 3.0 `example`.
    if let Some(Value::Array(examples)) = map.get("examples") {
        if let Some(first) = examples.first().cloned() {
            map.remove("examples");
            map.entry("example").or_insert(first);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn nullable_forms_become_3_0() {
        let doc = downgrade(json!({
            "openapi": "3.1.0",
            "info": {"license": {"name": "MIT", "identifier": "MIT"}},
            "a": {"type": ["string", "null"], "examples": ["x"]},
            "b": {"oneOf": [{"type": "null"}, {"$ref": "#/c", "description": "d"}]},
            "e": {"$ref": "#/c", "description": "d"}
        }));
        assert_eq!(
            doc["e"],
            json!({"allOf": [{"$ref": "#/c"}], "description": "d"})
        );
        assert_eq!(doc["openapi"], "3.0.3");
        assert_eq!(doc["info"]["license"], json!({"name": "MIT"}));
        assert_eq!(
            doc["a"],
            json!({"type": "string", "nullable": true, "example": "x"})
        );
        assert_eq!(
            doc["b"],
            json!({"allOf": [{"$ref": "#/c"}], "description": "d", "nullable": true})
        );
    }
}
