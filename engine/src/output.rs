//! Rule output formats: `%field` / `%(field)` tokens rendered per match. CONTRACT STUB.

use crate::event::FieldSource;

#[derive(Debug)]
pub struct OutputFormat {}

impl OutputFormat {
    /// The rendered output; values that cannot be extracted print `<NA>`.
    pub fn render(&self, _ev: &dyn FieldSource) -> String {
        todo!("output")
    }

    /// `(field as written, value or None)` for every token, as Falco's `output_fields`.
    pub fn fields(&self, _ev: &dyn FieldSource) -> Vec<(String, Option<String>)> {
        todo!("output")
    }
}
