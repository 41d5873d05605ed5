//! The subset of kubectl's JSONPath dialect used by printer columns: `.a.b`, `['a.b']`, `[0]`,
//! `[-1]`, `[1:3]`, `[*]`, `.*`, `..name`, `[?(@.type=="Ready")]` (`== != < > <= >=`, or bare
//! existence `[?(@.x)]`), optional `{…}` wrapping and a leading `$`. Missing keys match nothing.

use serde_json::Value;

/// A parsed JSONPath expression.
#[derive(Debug, Clone, PartialEq)]
pub struct JsonPath {
    steps: Vec<Step>,
}

/// Why an expression could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid JSONPath {expr:?}: {reason}")]
pub struct JsonPathError {
    pub expr: String,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq)]
enum Step {
    Field(String),
    Recursive(String),
    Wildcard,
    Index(i64),
    Slice(Option<i64>, Option<i64>),
    Filter(Vec<Step>, Option<(Op, Value)>),
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Op {
    Eq,
    Ne,
    Lt,
    Gt,
    Le,
    Ge,
}

impl JsonPath {
    /// Parses an expression such as `.status.conditions[?(@.type=="Ready")].status`.
    pub fn parse(expr: &str) -> Result<Self, JsonPathError> {
        let err = |reason: &str| JsonPathError {
            expr: expr.to_string(),
            reason: reason.to_string(),
        };
        let mut s = expr.trim();
        if let Some(inner) = s.strip_prefix('{').and_then(|x| x.strip_suffix('}')) {
            s = inner.trim();
        }
        s = s.strip_prefix('$').unwrap_or(s);
        let steps = parse_steps(s).map_err(|r| err(&r))?;
        Ok(Self { steps })
    }

    /// All values the expression selects in `root`, in document order.
    pub fn find(&self, root: &Value) -> Vec<Value> {
        eval(&self.steps, vec![root]).into_iter().cloned().collect()
    }
}

fn parse_steps(mut s: &str) -> Result<Vec<Step>, String> {
    let mut steps = Vec::new();
    while !s.is_empty() {
        if let Some(rest) = s.strip_prefix("..") {
            let (name, rest) = take_name(rest);
            if name.is_empty() {
                return Err("expected a field name after '..'".into());
            }
            steps.push(Step::Recursive(name));
            s = rest;
        } else if let Some(rest) = s.strip_prefix('.') {
            if let Some(rest) = rest.strip_prefix('*') {
                steps.push(Step::Wildcard);
                s = rest;
                continue;
            }
            let (name, rest) = take_name(rest);
            if !name.is_empty() {
                steps.push(Step::Field(name));
            }
            s = rest;
        } else if let Some(rest) = s.strip_prefix('[') {
            let end = bracket_end(rest).ok_or("unclosed '['")?;
            steps.push(parse_bracket(rest[..end].trim())?);
            s = &rest[end + 1..];
        } else if steps.is_empty() {
            // A leading field without a dot (`metadata.name`).
            let (name, rest) = take_name(s);
            if name.is_empty() {
                return Err(format!("unexpected {s:?}"));
            }
            steps.push(Step::Field(name));
            s = rest;
        } else {
            return Err(format!("unexpected {s:?}"));
        }
    }
    Ok(steps)
}

/// A field name up to the next unescaped `.` or `[`; `\.` escapes a dot.
fn take_name(s: &str) -> (String, &str) {
    let mut name = String::new();
    let mut chars = s.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        match c {
            '\\' => {
                if let Some((_, n)) = chars.next() {
                    name.push(n);
                }
            }
            '.' | '[' => return (name, &s[i..]),
            _ => name.push(c),
        }
    }
    (name, "")
}

/// Index of the `]` closing a bracket, skipping quoted text and nested brackets.
fn bracket_end(s: &str) -> Option<usize> {
    let mut depth = 0;
    let mut quote: Option<char> = None;
    for (i, c) in s.char_indices() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'') => quote = Some(c),
            (None, '[') => depth += 1,
            (None, ']') if depth == 0 => return Some(i),
            (None, ']') => depth -= 1,
            _ => {}
        }
    }
    None
}

fn parse_bracket(b: &str) -> Result<Step, String> {
    if b == "*" {
        return Ok(Step::Wildcard);
    }
    if let Some(f) = b.strip_prefix("?(").and_then(|x| x.strip_suffix(')')) {
        return parse_filter(f.trim());
    }
    if let Some(name) = unquote(b) {
        return Ok(Step::Field(name));
    }
    if let Some((a, z)) = b.split_once(':') {
        let num = |x: &str| -> Result<Option<i64>, String> {
            let x = x.trim();
            if x.is_empty() {
                Ok(None)
            } else {
                x.parse()
                    .map(Some)
                    .map_err(|_| format!("bad slice bound {x:?}"))
            }
        };
        let z = z.split(':').next().unwrap_or("");
        return Ok(Step::Slice(num(a)?, num(z)?));
    }
    b.parse::<i64>()
        .map(Step::Index)
        .map_err(|_| format!("unsupported bracket expression [{b}]"))
}

fn unquote(s: &str) -> Option<String> {
    let first = s.chars().next()?;
    if (first == '\'' || first == '"') && s.len() >= 2 && s.ends_with(first) {
        Some(s[1..s.len() - 1].to_string())
    } else {
        None
    }
}

fn parse_filter(f: &str) -> Result<Step, String> {
    const OPS: [(&str, Op); 6] = [
        ("==", Op::Eq),
        ("!=", Op::Ne),
        ("<=", Op::Le),
        (">=", Op::Ge),
        ("<", Op::Lt),
        (">", Op::Gt),
    ];
    let split = OPS.iter().find_map(|(tok, op)| {
        outside_quotes_find(f, tok).map(|i| (&f[..i], *op, &f[i + tok.len()..]))
    });
    let (lhs, cmp) = match split {
        Some((l, op, r)) => (l.trim(), Some((op, literal(r.trim())?))),
        None => (f, None),
    };
    let path = lhs
        .strip_prefix('@')
        .ok_or_else(|| format!("filter must start with '@': {f:?}"))?;
    Ok(Step::Filter(parse_steps(path)?, cmp))
}

fn outside_quotes_find(s: &str, tok: &str) -> Option<usize> {
    let mut quote: Option<char> = None;
    for (i, c) in s.char_indices() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if c == '"' || c == '\'' => quote = Some(c),
            None if s[i..].starts_with(tok) => return Some(i),
            None => {}
        }
    }
    None
}

fn literal(s: &str) -> Result<Value, String> {
    if let Some(text) = unquote(s) {
        return Ok(Value::String(text));
    }
    match s {
        "true" => Ok(Value::Bool(true)),
        "false" => Ok(Value::Bool(false)),
        "null" | "nil" => Ok(Value::Null),
        _ => serde_json::from_str::<serde_json::Number>(s)
            .map(Value::Number)
            .map_err(|_| format!("unsupported literal {s:?}")),
    }
}

fn eval<'a>(steps: &[Step], mut cur: Vec<&'a Value>) -> Vec<&'a Value> {
    for step in steps {
        let mut next = Vec::new();
        for v in cur {
            apply(step, v, &mut next);
        }
        cur = next;
    }
    cur
}

fn apply<'a>(step: &Step, v: &'a Value, out: &mut Vec<&'a Value>) {
    match step {
        Step::Field(name) => {
            if let Some(x) = v.get(name.as_str()) {
                out.push(x);
            }
        }
        Step::Recursive(name) => recurse(name, v, out),
        Step::Wildcard => match v {
            Value::Array(a) => out.extend(a.iter()),
            Value::Object(m) => out.extend(m.values()),
            _ => {}
        },
        Step::Index(i) => {
            if let Value::Array(a) = v {
                let idx = if *i < 0 { a.len() as i64 + i } else { *i };
                if let Some(x) = usize::try_from(idx).ok().and_then(|i| a.get(i)) {
                    out.push(x);
                }
            }
        }
        Step::Slice(from, to) => {
            if let Value::Array(a) = v {
                let len = a.len() as i64;
                let norm = |x: i64| (if x < 0 { len + x } else { x }).clamp(0, len) as usize;
                let start = from.map_or(0, norm);
                let end = to.map_or(a.len(), norm);
                if start < end {
                    out.extend(a[start..end].iter());
                }
            }
        }
        Step::Filter(path, cmp) => {
            if let Value::Array(a) = v {
                for item in a {
                    if filter_matches(path, cmp.as_ref(), item) {
                        out.push(item);
                    }
                }
            }
        }
    }
}

fn recurse<'a>(name: &str, v: &'a Value, out: &mut Vec<&'a Value>) {
    match v {
        Value::Object(m) => {
            if let Some(x) = m.get(name) {
                out.push(x);
            }
            for child in m.values() {
                recurse(name, child, out);
            }
        }
        Value::Array(a) => {
            for child in a {
                recurse(name, child, out);
            }
        }
        _ => {}
    }
}

fn filter_matches(path: &[Step], cmp: Option<&(Op, Value)>, item: &Value) -> bool {
    let found = eval(path, vec![item]);
    let Some((op, lit)) = cmp else {
        return !found.is_empty();
    };
    found.iter().any(|x| compare(x, *op, lit))
}

fn compare(x: &Value, op: Op, lit: &Value) -> bool {
    let ord = match (x, lit) {
        (Value::Number(a), Value::Number(b)) => a.as_f64().partial_cmp(&b.as_f64()),
        (Value::String(a), Value::String(b)) => Some(a.cmp(b)),
        _ => {
            return match op {
                Op::Eq => x == lit,
                Op::Ne => x != lit,
                _ => false,
            };
        }
    };
    let Some(ord) = ord else { return false };
    use std::cmp::Ordering::*;
    match op {
        Op::Eq => ord == Equal,
        Op::Ne => ord != Equal,
        Op::Lt => ord == Less,
        Op::Gt => ord == Greater,
        Op::Le => ord != Greater,
        Op::Ge => ord != Less,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn find(expr: &str, v: &Value) -> Vec<Value> {
        JsonPath::parse(expr).unwrap().find(v)
    }

    #[test]
    fn dialect() {
        let v = json!({"metadata":{"name":"a","labels":{"app.kubernetes.io/name":"x"}},
            "status":{"conditions":[{"type":"Synced","status":"False","n":1},{"type":"Ready","status":"True","n":2}],
            "list":[1,2,3,4]}});
        assert_eq!(find(".metadata.name", &v), vec![json!("a")]);
        assert_eq!(find("{.metadata.name}", &v), vec![json!("a")]);
        assert_eq!(find("$.metadata.name", &v), vec![json!("a")]);
        assert_eq!(
            find(".status.conditions[?(@.type==\"Ready\")].status", &v),
            vec![json!("True")]
        );
        assert_eq!(
            find(".status.conditions[?(@.type=='Ready')].status", &v),
            vec![json!("True")]
        );
        assert_eq!(
            find(".status.conditions[?(@.type!=\"Ready\")].type", &v),
            vec![json!("Synced")]
        );
        assert_eq!(
            find(".status.conditions[?(@.n > 1)].type", &v),
            vec![json!("Ready")]
        );
        assert_eq!(
            find(".status.conditions[?(@.n)].n", &v),
            vec![json!(1), json!(2)]
        );
        assert_eq!(
            find(".status.conditions[?(@.type==\"Gone\")].status", &v),
            Vec::<Value>::new()
        );
        assert_eq!(
            find(".status.conditions[0].type", &v),
            vec![json!("Synced")]
        );
        assert_eq!(
            find(".status.conditions[-1].type", &v),
            vec![json!("Ready")]
        );
        assert_eq!(
            find(".status.conditions[*].type", &v),
            vec![json!("Synced"), json!("Ready")]
        );
        assert_eq!(find(".status.list[1:3]", &v), vec![json!(2), json!(3)]);
        assert_eq!(find(".status.list[5]", &v), Vec::<Value>::new());
        assert_eq!(
            find(".metadata.labels['app.kubernetes.io/name']", &v),
            vec![json!("x")]
        );
        assert_eq!(
            find(".metadata.labels.app\\.kubernetes\\.io/name", &v),
            vec![json!("x")]
        );
        assert_eq!(find("..type", &v), vec![json!("Synced"), json!("Ready")]);
        assert_eq!(find(".spec.missing.deeper", &v), Vec::<Value>::new());
        assert_eq!(find(".metadata.*", &v).len(), 2);
        assert!(JsonPath::parse(".a[").is_err());
        assert!(JsonPath::parse(".a[?(x==1)]").is_err());
    }
}
