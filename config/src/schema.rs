pub fn json_schema_pretty() -> String {
    String::new()
}
