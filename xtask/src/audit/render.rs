//! Step 5b of the audit: Markdown rendered from the summary through the
//! templates in `xtask/templates/`. Why the marks: a template can only
//! print a number it reads from the summary, and each such number leaves the
//! engine wrapped with the path of the field it came from (`Figure`), so
//! [`check`] can prove that every figure in a document is the value of its
//! own field; the marks are then stripped ([`unmark`]). Templates pick the
//! rows they print with `find(items, key=value)`, which hands back the row
//! itself, its figures still carrying their paths.

use std::fmt::Write as _;
use std::sync::Arc;

use minijinja::value::{Kwargs, Object, ObjectRepr, Value};
use minijinja::{Environment, Error, ErrorKind};
use serde_json::Value as Json;

use super::summary::Summary;

/// The documents: (path from the workspace root, template).
pub(crate) const DOCUMENTS: [(&str, &str); 3] = [
    ("benches/results/summary.md", "summary.md.j2"),
    ("docs/bench/BENCHMARK_RESULTS.md", "benchmark_results.md.j2"),
    ("docs/audits/ZERO_OVERHEAD_AUDIT.md", "audit.md.j2"),
];

/// `(name, source)` of each template in `xtask/templates/`.
macro_rules! templates {
    ($($name:literal),*) => { [$(($name, include_str!(concat!("../../templates/", $name)))),*] };
}

/// The templates, compiled into the binary so a stale checkout cannot
/// render with other prose.
const TEMPLATES: [(&str, &str); 5] = templates![
    "summary.md.j2",
    "benchmark_results.md.j2",
    "audit.md.j2",
    "tables.md.j2",
    "findings.md.j2"
];

/// Where a figure starts, where its path ends and its text begins, and where
/// it ends, in marked output (private-use characters no document contains).
const OPEN: char = '\u{E000}';
const SHOWN: char = '\u{E001}';
const CLOSE: char = '\u{E002}';

/// A number read from the summary: the JSON pointer of its field and the
/// text it is shown as.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Figure {
    /// JSON pointer into `summary.json` (`/callgrind/fork_minus_raw`).
    pub(crate) path: String,
    /// The figure as printed (`3941`, `1.050`, `+3941`).
    pub(crate) shown: String,
}

impl Object for Figure {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Plain
    }
}

/// The summary as the templates see it: numbers become [`Figure`]s that
/// carry their path; everything else is plain.
pub(crate) fn context(json: &Json, path: &str) -> Value {
    match json {
        Json::Number(n) => Value::from_object(Figure {
            path: path.to_owned(),
            shown: n.to_string(),
        }),
        Json::Array(items) => {
            let item = |(i, v)| context(v, &format!("{path}/{i}"));
            Value::from_iter(items.iter().enumerate().map(item))
        }
        // Keys as JSON pointer tokens (RFC 6901).
        Json::Object(map) => Value::from_iter(map.iter().map(|(k, v)| {
            let token = k.replace('~', "~0").replace('/', "~1");
            (k.clone(), context(v, &format!("{path}/{token}")))
        })),
        // Strings go into table cells, where a `|` would split the cell.
        Json::String(text) => Value::from(text.replace('|', "\\|")),
        other => Value::from_serialize(other),
    }
}

/// The figure `value` (of the same field) with its text rewritten by `show`;
/// an error for anything else, or a text `show` cannot rewrite.
fn reshow(value: &Value, show: impl Fn(&str) -> Option<String>) -> Result<Value, Error> {
    let figure = value.downcast_object_ref::<Figure>();
    match figure.and_then(|f| Some((f, show(&f.shown)?))) {
        Some((f, shown)) => Ok(Value::from_object(Figure {
            path: f.path.clone(),
            shown,
        })),
        None => Err(Error::new(
            ErrorKind::InvalidOperation,
            format!("{value} is not a figure"),
        )),
    }
}

/// `{{ x | fixed(3) }}`: the figure with that many decimals.
fn fixed(value: &Value, digits: usize) -> Result<Value, Error> {
    reshow(value, |shown| {
        Some(format!("{:.digits$}", shown.parse::<f64>().ok()?))
    })
}

/// `{{ x | signed }}`: the figure with its sign (`+3941`).
fn signed(value: &Value) -> Result<Value, Error> {
    reshow(value, |shown| {
        Some(format!(
            "{}{shown}",
            if shown.starts_with('-') { "" } else { "+" }
        ))
    })
}

/// `find(items, key=value, ...)`: the first item whose attributes have
/// those values, undefined if none has (so printing from it is an error).
fn find(items: Value, wanted: Kwargs) -> Result<Value, Error> {
    let keys: Vec<&str> = wanted.args().collect();
    let matches =
        |item: &Value| (keys.iter()).all(|k| item.get_attr(k).ok() == wanted.get::<Value>(k).ok());
    let found = items.try_iter()?.find(matches);
    wanted.assert_all_used()?;
    Ok(found.unwrap_or(Value::UNDEFINED))
}

/// The engine with the templates, the filters and the marking formatter.
pub(crate) fn environment() -> Environment<'static> {
    let mut env = crate::util::environment();
    for (name, source) in TEMPLATES {
        env.add_template(name, source).expect("the templates parse");
    }
    env.add_filter("fixed", fixed);
    env.add_filter("signed", signed);
    env.add_function("find", find);
    env.set_formatter(|out, _, value| {
        let text = if let Some(f) = value.downcast_object_ref::<Figure>() {
            format!("{OPEN}{}{SHOWN}{}{CLOSE}", f.path, f.shown)
        } else if value.is_none() || value.is_undefined() {
            // A run that was not measured must be said in words.
            return Err(Error::new(
                ErrorKind::InvalidOperation,
                "printed a missing value",
            ));
        } else {
            value.to_string()
        };
        out.write_str(&text).map_err(Error::from)
    });
    env
}

/// The text without marks, and the figures that were marked in it.
pub(crate) fn unmark(marked: &str) -> (String, Vec<Figure>) {
    let mut text = String::with_capacity(marked.len());
    let mut figures = Vec::new();
    let mut rest = marked;
    while let Some(start) = rest.find(OPEN) {
        text.push_str(&rest[..start]);
        let after = &rest[start + OPEN.len_utf8()..];
        let (Some(mid), Some(end)) = (after.find(SHOWN), after.find(CLOSE)) else {
            break;
        };
        let shown = &after[mid + SHOWN.len_utf8()..end];
        text.push_str(shown);
        figures.push(Figure {
            path: after[..mid].to_owned(),
            shown: shown.to_owned(),
        });
        rest = &after[end + CLOSE.len_utf8()..];
    }
    text.push_str(rest);
    (text, figures)
}

/// Every figure is the value of its own field in `summary` (the JSON as
/// written): the path exists, holds a number, and the shown text reads back
/// as that number (to the decimals shown, with its sign).
///
/// # Errors
/// One line per figure that is not its field's value.
pub(crate) fn check(figures: &[Figure], summary: &Json) -> Result<(), String> {
    let mut wrong = String::new();
    for f in figures {
        let field = summary.pointer(&f.path).and_then(Json::as_f64);
        let shown: Option<f64> = f.shown.parse().ok();
        let agrees = match (field, shown) {
            (Some(field), Some(shown)) => {
                let decimals = f.shown.split_once('.').map_or(0, |(_, d)| d.len()) as i32;
                (super::summary::round(field, decimals) - shown).abs() < 1e-9
            }
            _ => false,
        };
        if !agrees {
            let _ = writeln!(
                wrong,
                "{} shown as {} but the field holds {field:?}",
                f.path, f.shown
            );
        }
    }
    if wrong.is_empty() { Ok(()) } else { Err(wrong) }
}

/// A rendered document and the figures in it.
pub(crate) struct Rendered {
    /// Path from the workspace root.
    pub(crate) path: &'static str,
    /// The Markdown, without marks.
    pub(crate) text: String,
    /// Every figure it shows, with its field.
    pub(crate) figures: Vec<Figure>,
}

/// The three documents, each checked figure by figure against the summary.
///
/// # Errors
/// A template error, or a figure that is not its field's value.
pub(crate) fn documents(summary: &Summary) -> Result<Vec<Rendered>, String> {
    let json = serde_json::to_value(summary).map_err(|e| e.to_string())?;
    let env = environment();
    let ctx = minijinja::context! { s => context(&json, "") };
    DOCUMENTS
        .iter()
        .map(|&(path, template)| {
            let template = env.get_template(template).map_err(|e| format!("{e:#}"))?;
            let marked = template
                .render(&ctx)
                .map_err(|e| format!("{path}: {e:#}"))?;
            let (text, figures) = unmark(&marked);
            check(&figures, &json).map_err(|e| format!("{path}:\n{e}"))?;
            Ok(Rendered {
                path,
                text,
                figures,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::util::{read_json, results_dir};

    /// The numbers a reader sees in `text`: maximal runs of word characters
    /// and dots that are digits and dots (a trailing `x` allowed: "1.05x");
    /// "eager_50x10", "v0.8" or "F3" are names.
    fn numbers(text: &str) -> Vec<&str> {
        text.split(|c: char| !(c.is_alphanumeric() || c == '_' || c == '.'))
            .map(|run| run.trim_end_matches('.'))
            .map(|run| run.strip_suffix('x').unwrap_or(run))
            .filter(|run| run.starts_with(|c: char| c.is_ascii_digit()))
            .filter(|run| run.chars().all(|c| c.is_ascii_digit() || c == '.'))
            .collect()
    }

    fn strings<'j>(json: &'j Json, out: &mut Vec<&'j str>) {
        match json {
            Json::String(s) => out.push(s),
            Json::Array(items) => items.iter().for_each(|v| strings(v, out)),
            Json::Object(map) => map.values().for_each(|v| strings(v, out)),
            _ => {}
        }
    }

    /// The numbers in `marked` outside its figures that are neither in the
    /// template `sources` nor inside a string field of `json`.
    fn stray_numbers(marked: &str, sources: &str, json: &Json) -> Vec<String> {
        let mut fields = Vec::new();
        strings(json, &mut fields);
        let prose: Vec<&str> = marked
            .split(OPEN)
            .map(|part| part.split_once(CLOSE).map_or(part, |(_, after)| after))
            .collect();
        numbers(&prose.join(" "))
            .into_iter()
            .filter(|n| !sources.contains(n) && !fields.iter().any(|f| f.contains(n)))
            .map(str::to_owned)
            .collect()
    }

    /// Outside the marked figures, a document's numbers are the templates'
    /// own prose ("127.0.0.1", "50 pages") or inside a string field (a
    /// setting, a finding's sentences, whose figures `findings::judge`
    /// checked): no template prints a number that is not a field's.
    #[test]
    fn no_number_reaches_a_document_unmarked() {
        let json = read_json(&results_dir().join("summary.json")).expect("committed");
        let sources: String = TEMPLATES.iter().map(|(_, source)| *source).collect();
        let env = environment();
        let ctx = minijinja::context! { s => context(&json, "") };
        for (path, template) in DOCUMENTS {
            let marked = env.get_template(template).unwrap().render(&ctx).unwrap();
            let stray = stray_numbers(&marked, &sources, &json);
            assert!(
                stray.is_empty(),
                "{path} prints numbers from no field: {stray:?}"
            );
        }
    }

    #[test]
    fn a_number_printed_from_no_field_is_caught() {
        let json = serde_json::json!({"n": 7, "items": ["a", "b", "c", "d", "e"]});
        let source = "{{ s.n }} and {{ s.items | length }} items";
        let marked = environment()
            .render_str(source, minijinja::context! { s => context(&json, "") })
            .unwrap();
        assert_eq!(unmark(&marked).0, "7 and 5 items");
        assert_eq!(stray_numbers(&marked, source, &json), ["5"]);
    }
}
