//! Plain-text tables like kubectl's: upper-case headers, columns padded to their widest cell and
//! separated by three spaces, `-` for an unknown value. Pure.

use crate::api::{Candidate, Capabilities};

/// Renders rows under `headers` (every row as long as `headers`).
pub fn render(headers: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let mut line = |cells: &mut dyn Iterator<Item = &str>| {
        let mut l = String::new();
        for (i, (cell, w)) in cells.zip(&widths).enumerate() {
            if i > 0 {
                l.push_str("   ");
            }
            l.push_str(cell);
            l.extend(std::iter::repeat_n(
                ' ',
                w.saturating_sub(cell.chars().count()),
            ));
        }
        out.push_str(l.trim_end());
        out.push('\n');
    };
    line(&mut headers.iter().copied());
    for row in rows {
        line(&mut row.iter().map(String::as_str));
    }
    out
}

/// `voice,sms,mms` (only those the number has), or `-`.
pub fn capabilities(c: &Capabilities) -> String {
    let names: Vec<&str> = [(c.voice, "voice"), (c.sms, "sms"), (c.mms, "mms")]
        .into_iter()
        .filter_map(|(has, name)| has.then_some(name))
        .collect();
    if names.is_empty() {
        "-".into()
    } else {
        names.join(",")
    }
}

/// An optional cell.
pub fn cell(v: Option<&str>) -> String {
    v.filter(|s| !s.is_empty()).unwrap_or("-").to_string()
}

/// The search table: number, locality, capabilities, monthly, in/min, out/min, currency.
pub fn candidates(candidates: &[Candidate]) -> String {
    let rows: Vec<Vec<String>> = candidates
        .iter()
        .map(|c| {
            let locality = match (c.locality.as_deref(), c.region.as_deref()) {
                (Some(l), Some(r)) => format!("{l}, {r}"),
                (Some(l), None) => l.to_string(),
                (None, Some(r)) => r.to_string(),
                (None, None) => "-".into(),
            };
            vec![
                c.phone_number.clone(),
                locality,
                capabilities(&c.capabilities),
                cell(c.monthly_fee.as_deref()),
                cell(c.inbound_per_minute.as_deref()),
                cell(c.outbound_per_minute.as_deref()),
                cell(c.currency.as_deref()),
            ]
        })
        .collect();
    render(
        &[
            "NUMBER",
            "LOCALITY",
            "CAPABILITIES",
            "MONTHLY",
            "IN/MIN",
            "OUT/MIN",
            "CURRENCY",
        ],
        &rows,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_are_padded_and_unknowns_are_dashes() {
        let rows = [
            Candidate {
                phone_number: "+14155550100".into(),
                locality: Some("San Francisco".into()),
                region: Some("CA".into()),
                capabilities: Capabilities {
                    voice: true,
                    sms: true,
                    mms: false,
                },
                monthly_fee: Some("1.15".into()),
                inbound_per_minute: Some("0.0085".into()),
                outbound_per_minute: Some("0.014".into()),
                currency: Some("USD".into()),
                ..Default::default()
            },
            Candidate {
                phone_number: "+14155550101".into(),
                ..Default::default()
            },
        ];
        let table = candidates(&rows);
        let lines: Vec<&str> = table.lines().collect();
        assert_eq!(
            lines,
            [
                "NUMBER         LOCALITY            CAPABILITIES   MONTHLY   IN/MIN   OUT/MIN   CURRENCY",
                "+14155550100   San Francisco, CA   voice,sms      1.15      0.0085   0.014     USD",
                "+14155550101   -                   -              -         -        -         -",
            ]
        );
    }
}
