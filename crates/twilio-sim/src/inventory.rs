//! Twilio's available-number inventory, generated lazily and deterministically from the seed.
//!
//! Numbers are never materialised: a country/type is a list of blocks (an area code or national
//! prefix followed by a fixed count of digits); inside a block, a 3-digit "exchange" belongs to
//! Twilio's stock when a seeded hash says so (30 %), and so does a line in it (75 %). The same
//! predicate answers "is this number in stock?" for a purchase by value in O(1), and searches walk
//! the blocks in a fixed order. Owned and quarantined numbers are filtered out by the caller.

use crate::geo::{BlockSpec, blocks};
use crate::util::{hash_str, mix};

/// Number types served.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NumberType {
    Local,
    TollFree,
    Mobile,
}

impl NumberType {
    /// The `type` field of an IncomingPhoneNumber.
    pub fn api_type(self) -> &'static str {
        match self {
            NumberType::Local => "local",
            NumberType::TollFree => "toll-free",
            NumberType::Mobile => "mobile",
        }
    }

    /// `number_type` in Pricing for an IncomingPhoneNumber `type`.
    pub fn price_type_of(api_type: &str) -> &'static str {
        match api_type {
            "toll-free" => "toll free",
            "mobile" => "mobile",
            _ => "local",
        }
    }

    /// Path segment (`Local`, `TollFree`, `Mobile`).
    pub fn path_name(self) -> &'static str {
        match self {
            NumberType::Local => "Local",
            NumberType::TollFree => "TollFree",
            NumberType::Mobile => "Mobile",
        }
    }
}

/// A number in stock, with its metadata.
#[derive(Debug, Clone, PartialEq)]
pub struct Available {
    pub phone_number: String,
    pub iso_country: &'static str,
    pub number_type: NumberType,
    pub locality: Option<&'static str>,
    pub region: Option<&'static str>,
    pub postal_code: Option<&'static str>,
    pub latitude: Option<&'static str>,
    pub longitude: Option<&'static str>,
    pub lata: Option<&'static str>,
    pub rate_center: Option<&'static str>,
    pub voice: bool,
    pub sms: bool,
    pub mms: bool,
    pub address_requirements: &'static str,
}

/// Search filters (already parsed).
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub area_code: Option<u16>,
    /// Compiled `Contains` pattern, matched against the E.164 digits (without `+`).
    pub contains: Option<regex::Regex>,
    pub voice: bool,
    pub sms: bool,
    pub mms: bool,
    pub in_region: Option<String>,
    pub in_locality: Option<String>,
    pub in_postal_code: Option<String>,
    /// Area code of `NearNumber` (NANP): same area code.
    pub near_area_code: Option<u16>,
    pub exclude_address_required: bool,
}

/// Compiles a `Contains` value into a regex: digits and letters (keypad), `*` one digit,
/// `%` any run, leading `+` anchors at the country code, trailing `$` at the end.
pub fn compile_contains(raw: &str) -> Option<regex::Regex> {
    let mut s = raw.trim();
    let mut pat = String::new();
    if let Some(rest) = s.strip_prefix('+') {
        pat.push('^');
        s = rest;
    }
    let anchored_end = s.ends_with('$');
    let s = s.trim_end_matches('$');
    if s.is_empty() || s.len() > 16 {
        return None;
    }
    for c in s.chars() {
        match c {
            '0'..='9' => pat.push(c),
            '*' => pat.push_str("[0-9]"),
            '%' => pat.push_str("[0-9]*"),
            c if c.is_ascii_alphabetic() => pat.push(keypad(c)),
            _ => return None,
        }
    }
    if anchored_end {
        pat.push('$');
    }
    regex::Regex::new(&pat).ok()
}

fn keypad(c: char) -> char {
    match c.to_ascii_uppercase() {
        'A'..='C' => '2',
        'D'..='F' => '3',
        'G'..='I' => '4',
        'J'..='L' => '5',
        'M'..='O' => '6',
        'P'..='S' => '7',
        'T'..='V' => '8',
        _ => '9',
    }
}

/// The generated inventory.
pub struct Inventory {
    blocks: Vec<BlockSpec>,
    /// Per-block hash salt derived from the seed.
    salts: Vec<u64>,
    /// Per block: its held exchanges, in the seeded walk order.
    held: Vec<Vec<u64>>,
}

/// Exchanges per round of a search walk (lines taken per exchange before moving on).
const LINES_PER_ROUND: u64 = 8;

impl Inventory {
    pub fn new(seed: u64) -> Self {
        let blocks = blocks();
        let salts = blocks
            .iter()
            .map(|b| {
                hash_str(
                    seed,
                    &format!("{}|{}|{}|{}", b.iso, b.kind.api_type(), b.cc, b.prefix),
                )
            })
            .collect();
        let mut inv = Self {
            blocks,
            salts,
            held: Vec::new(),
        };
        inv.held = (0..inv.blocks.len())
            .map(|i| {
                let start = mix(inv.block_salt(i) ^ 0xe0) % 800;
                (0..800)
                    .map(|k| 200 + (start + k) % 800)
                    .filter(|&e| inv.exchange_held(i, e))
                    .collect()
            })
            .collect();
        inv
    }

    /// ISO countries served, with their names and number types.
    pub fn countries(&self) -> Vec<(&'static str, &'static str, Vec<NumberType>)> {
        let mut out: Vec<(&'static str, &'static str, Vec<NumberType>)> = Vec::new();
        for b in &self.blocks {
            match out.iter_mut().find(|(iso, _, _)| *iso == b.iso) {
                Some((_, _, types)) => {
                    if !types.contains(&b.kind) {
                        types.push(b.kind);
                    }
                }
                None => out.push((b.iso, b.country_name, vec![b.kind])),
            }
        }
        out
    }

    /// Whether the country offers the type.
    pub fn offers(&self, iso: &str, kind: NumberType) -> bool {
        self.blocks.iter().any(|b| b.iso == iso && b.kind == kind)
    }

    /// The ISO country of an E.164 number (by its blocks, else by country code).
    pub fn country_of(&self, e164: &str) -> Option<&'static str> {
        if let Some(a) = self.lookup(e164) {
            return Some(a.iso_country);
        }
        let digits = e164.strip_prefix('+')?;
        let by_cc = |cc: &str| digits.starts_with(cc);
        if by_cc("1") {
            let npa = digits.get(1..4)?;
            if self.blocks.iter().any(|b| b.iso == "CA" && b.prefix == npa) {
                return Some("CA");
            }
            return Some("US");
        }
        self.blocks.iter().find(|b| by_cc(b.cc)).map(|b| b.iso)
    }

    /// Whether a NANP area code has any block of this country.
    pub fn has_area_code(&self, iso: &str, npa: u16) -> bool {
        let s = npa.to_string();
        self.blocks
            .iter()
            .any(|b| b.iso == iso && b.cc == "1" && b.prefix == s)
    }

    /// The number's stock entry, if Twilio "holds" it (ownership not considered).
    pub fn lookup(&self, e164: &str) -> Option<Available> {
        let digits = e164.strip_prefix('+')?;
        if !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        for (i, b) in self.blocks.iter().enumerate() {
            let Some(national) = digits.strip_prefix(b.cc) else {
                continue;
            };
            let Some(rest) = national.strip_prefix(b.prefix) else {
                continue;
            };
            if rest.len() != usize::from(b.rest) {
                continue;
            }
            let exchange: u64 = rest[..3].parse().ok()?;
            let line: u64 = rest[3..].parse().ok()?;
            if !self.exchange_held(i, exchange) || !self.line_held(i, exchange, line) {
                continue;
            }
            return Some(self.describe(i, exchange, line));
        }
        None
    }

    fn block_salt(&self, i: usize) -> u64 {
        self.salts[i]
    }

    fn exchange_held(&self, i: usize, exchange: u64) -> bool {
        let b = &self.blocks[i];
        if !(200..=999).contains(&exchange) {
            return false;
        }
        // NANP: no N11 service codes; NANP toll-free is shared by US and CA, split by parity.
        if b.cc == "1" && exchange % 100 == 11 {
            return false;
        }
        if let Some(p) = b.parity
            && exchange % 2 != p
        {
            return false;
        }
        mix(self.block_salt(i) ^ exchange) % 10 < 3
    }

    fn line_held(&self, i: usize, exchange: u64, line: u64) -> bool {
        !mix(self.block_salt(i) ^ (exchange << 32) ^ line ^ 0xa5a5).is_multiple_of(4)
    }

    fn lines_in_block(&self, i: usize) -> u64 {
        10u64.pow(u32::from(self.blocks[i].rest) - 3)
    }

    fn describe(&self, i: usize, exchange: u64, line: u64) -> Available {
        let b = &self.blocks[i];
        let h = mix(self.block_salt(i) ^ exchange ^ 0x5151);
        let geo = if b.geos.is_empty() {
            None
        } else {
            Some(&b.geos[(h as usize) % b.geos.len()])
        };
        let width = usize::from(b.rest) - 3;
        let phone_number = format!("+{}{}{exchange:03}{line:0width$}", b.cc, b.prefix);
        Available {
            phone_number,
            iso_country: b.iso,
            number_type: b.kind,
            locality: geo.map(|g| g.locality).or(b.locality),
            region: b.region,
            postal_code: geo.map(|g| g.postal),
            latitude: geo.map(|g| g.lat),
            longitude: geo.map(|g| g.lon),
            lata: b.lata,
            rate_center: geo.map(|g| g.rate_center),
            voice: b.voice,
            sms: b.sms && !(h >> 8).is_multiple_of(10),
            mms: b.mms && !(h >> 16).is_multiple_of(5),
            address_requirements: b.address_requirements,
        }
    }

    /// Blocks of a country/type that can match the filter's area/region fields.
    fn candidate_blocks(&self, iso: &str, kind: NumberType, f: &Filter) -> Vec<usize> {
        (0..self.blocks.len())
            .filter(|&i| {
                let b = &self.blocks[i];
                if b.iso != iso || b.kind != kind {
                    return false;
                }
                let prefix_is = |ac: u16| b.cc == "1" && b.prefix == ac.to_string();
                if f.area_code.is_some_and(|ac| !prefix_is(ac))
                    || f.near_area_code.is_some_and(|ac| !prefix_is(ac))
                {
                    return false;
                }
                if let Some(r) = &f.in_region
                    && !b.region.is_some_and(|br| br.eq_ignore_ascii_case(r))
                {
                    return false;
                }
                if let Some(l) = &f.in_locality {
                    let any = b.geos.iter().any(|g| g.locality.eq_ignore_ascii_case(l))
                        || b.locality.is_some_and(|bl| bl.eq_ignore_ascii_case(l));
                    if !any {
                        return false;
                    }
                }
                if let Some(p) = &f.in_postal_code
                    && !b.geos.iter().any(|g| g.postal.eq_ignore_ascii_case(p))
                {
                    return false;
                }
                if f.exclude_address_required && b.address_requirements != "none" {
                    return false;
                }
                true
            })
            .collect()
    }

    fn matches(&self, a: &Available, f: &Filter) -> bool {
        if (f.voice && !a.voice) || (f.sms && !a.sms) || (f.mms && !a.mms) {
            return false;
        }
        if let Some(l) = &f.in_locality
            && !a.locality.is_some_and(|al| al.eq_ignore_ascii_case(l))
        {
            return false;
        }
        if let Some(p) = &f.in_postal_code
            && !a.postal_code.is_some_and(|ap| ap.eq_ignore_ascii_case(p))
        {
            return false;
        }
        if let Some(re) = &f.contains
            && !re.is_match(&a.phone_number[1..])
        {
            return false;
        }
        true
    }

    /// A deterministic walk over the matching stock, starting at round `start` (modulo the number
    /// of rounds; 0 = the fixed order): calls `visit` with batches of candidates until it returns
    /// `false` or `max_scan` numbers were examined.
    pub fn walk(
        &self,
        iso: &str,
        kind: NumberType,
        f: &Filter,
        max_scan: usize,
        start: u64,
        mut visit: impl FnMut(Vec<Available>) -> bool,
    ) {
        let blocks = self.candidate_blocks(iso, kind, f);
        if blocks.is_empty() {
            return;
        }
        let exchanges: Vec<(usize, &Vec<u64>)> =
            blocks.iter().map(|&i| (i, &self.held[i])).collect();
        let mut scanned = 0usize;
        let max_rounds = exchanges
            .iter()
            .map(|(i, _)| self.lines_in_block(*i) / LINES_PER_ROUND)
            .max()
            .unwrap_or(0);
        if max_rounds == 0 {
            return;
        }
        let start = start % max_rounds;
        for r in 0..max_rounds {
            let round = (r + start) % max_rounds;
            for &(i, list) in &exchanges {
                let lines = self.lines_in_block(i);
                if round * LINES_PER_ROUND >= lines {
                    continue;
                }
                let mut batch = Vec::new();
                for &e in list {
                    let line_start = mix(self.block_salt(i) ^ e ^ 0x11) % lines;
                    for k in round * LINES_PER_ROUND..(round + 1) * LINES_PER_ROUND {
                        // Stride 7919 is prime and coprime with every power of ten: a permutation.
                        let line = (line_start + k * 7919) % lines;
                        scanned += 1;
                        if !self.line_held(i, e, line) {
                            continue;
                        }
                        let a = self.describe(i, e, line);
                        if self.matches(&a, f) {
                            batch.push(a);
                        }
                    }
                    let limit = scanned >= max_scan;
                    if batch.len() >= 64 || limit {
                        let more = visit(std::mem::take(&mut batch));
                        if !more || limit {
                            return;
                        }
                    }
                }
                if !batch.is_empty() && !visit(batch) {
                    return;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn first(inv: &Inventory, iso: &str, kind: NumberType, f: &Filter, n: usize) -> Vec<Available> {
        let mut out = Vec::new();
        inv.walk(iso, kind, f, 200_000, 0, |batch| {
            out.extend(batch);
            out.len() < n
        });
        out.truncate(n);
        out
    }

    #[test]
    fn deterministic_and_consistent_with_lookup() {
        let a = Inventory::new(7);
        let b = Inventory::new(7);
        for (iso, kind) in [
            ("US", NumberType::Local),
            ("US", NumberType::TollFree),
            ("CA", NumberType::Local),
            ("CA", NumberType::TollFree),
            ("GB", NumberType::Local),
            ("GB", NumberType::Mobile),
            ("DE", NumberType::Local),
            ("AU", NumberType::Mobile),
            ("AU", NumberType::TollFree),
        ] {
            let xs = first(&a, iso, kind, &Filter::default(), 40);
            let ys = first(&b, iso, kind, &Filter::default(), 40);
            assert_eq!(xs.len(), 40, "{iso} {kind:?}");
            assert_eq!(xs, ys);
            for x in &xs {
                assert!(crate::util::is_e164(&x.phone_number), "{}", x.phone_number);
                let l = a
                    .lookup(&x.phone_number)
                    .unwrap_or_else(|| panic!("lookup {}", x.phone_number));
                assert_eq!(&l, x);
                assert_eq!(l.iso_country, iso);
            }
        }
        assert!(a.lookup("+15005550000").is_none());
    }

    #[test]
    fn rotated_walks_cover_valid_numbers() {
        let inv = Inventory::new(3);
        for start in [1, 977, u64::MAX] {
            let mut out = Vec::new();
            inv.walk(
                "US",
                NumberType::Local,
                &Filter::default(),
                10_000,
                start,
                |b| {
                    out.extend(b);
                    out.len() < 30
                },
            );
            assert!(out.len() >= 30);
            assert!(
                out.iter()
                    .all(|a| inv.lookup(&a.phone_number).as_ref() == Some(a))
            );
        }
    }

    #[test]
    fn filters() {
        let inv = Inventory::new(1);
        let f = Filter {
            area_code: Some(415),
            ..Default::default()
        };
        let xs = first(&inv, "US", NumberType::Local, &f, 30);
        assert_eq!(xs.len(), 30);
        assert!(
            xs.iter()
                .all(|x| x.phone_number.starts_with("+1415") && x.region == Some("CA"))
        );
        let f = Filter {
            contains: compile_contains("415*5"),
            ..Default::default()
        };
        let xs = first(&inv, "US", NumberType::Local, &f, 10);
        assert!(!xs.is_empty());
        let re = regex::Regex::new("415[0-9]5").unwrap();
        assert!(xs.iter().all(|x| re.is_match(&x.phone_number)));
        let f = Filter {
            mms: true,
            in_locality: Some("oakland".into()),
            ..Default::default()
        };
        let xs = first(&inv, "US", NumberType::Local, &f, 10);
        assert_eq!(xs.len(), 10);
        assert!(xs.iter().all(|x| x.mms && x.locality == Some("Oakland")));
        assert_eq!(
            compile_contains("+1415%$").map(|r| r.as_str().to_string()),
            Some("^1415[0-9]*$".into())
        );
        assert!(compile_contains("41-5").is_none());
    }
}
