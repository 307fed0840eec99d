//! The committed JSON Schema is current, and every valid fixture satisfies it.

use std::fs;
use std::path::Path;

#[test]
fn committed_schema_is_fresh() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/config.schema.json");
    let committed = fs::read_to_string(&path).expect("docs/config.schema.json exists");
    let current = cairn_config::schema::json_schema_pretty() + "\n";
    if std::env::var_os("CAIRN_BLESS").is_some() {
        fs::write(&path, &current).expect("writing schema");
        return;
    }
    similar_asserts::assert_eq!(committed, current, "regenerate with `provision schema > docs/config.schema.json`");
}

#[test]
fn valid_fixtures_satisfy_the_schema() {
    let schema = cairn_config::schema::json_schema();
    let validator = jsonschema::draft7::new(&schema).expect("the schema is itself valid draft-07");
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/valid");
    let mut checked = 0;
    for entry in fs::read_dir(dir).expect("fixtures") {
        let path = entry.expect("entry").path();
        if path.extension().is_none_or(|x| x != "toml") {
            continue;
        }
        let text = fs::read_to_string(&path).expect("readable");
        let value: serde_json::Value = toml::from_str(&text).expect("TOML parses");
        let errors: Vec<String> =
            validator.iter_errors(&value).map(|e| format!("{} at {}", e, e.instance_path)).collect();
        assert!(errors.is_empty(), "{}: {errors:#?}", path.display());
        checked += 1;
    }
    assert!(checked >= 4);
}

#[test]
fn schema_rejects_an_unknown_directive_like_the_validator() {
    let schema = cairn_config::schema::json_schema();
    let validator = jsonschema::draft7::new(&schema).expect("valid schema");
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/invalid/container-unknown-directive.toml");
    let value: serde_json::Value = toml::from_str(&fs::read_to_string(path).unwrap()).unwrap();
    assert!(!validator.is_valid(&value));
}
