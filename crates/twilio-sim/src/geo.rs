//! Static tables behind the generated inventory: countries, area codes / national prefixes,
//! localities, regions, postal codes and coordinates (US and CA), capabilities and address
//! requirements per country and number type.

use crate::inventory::NumberType;

/// A place inside a block.
#[derive(Debug)]
pub struct Geo {
    pub locality: &'static str,
    pub postal: &'static str,
    pub lat: &'static str,
    pub lon: &'static str,
    pub rate_center: &'static str,
}

/// A range of numbers: `+{cc}{prefix}` followed by `rest` digits (first 3 = exchange).
#[derive(Debug)]
pub struct BlockSpec {
    pub iso: &'static str,
    pub country_name: &'static str,
    pub kind: NumberType,
    pub cc: &'static str,
    pub prefix: &'static str,
    pub rest: u8,
    pub region: Option<&'static str>,
    pub lata: Option<&'static str>,
    pub locality: Option<&'static str>,
    pub geos: &'static [Geo],
    pub voice: bool,
    pub sms: bool,
    pub mms: bool,
    pub address_requirements: &'static str,
    /// NANP toll-free is shared by US and CA: exchanges of this parity only.
    pub parity: Option<u64>,
}

macro_rules! geo {
    ($loc:expr, $postal:expr, $lat:expr, $lon:expr, $rc:expr) => {
        Geo {
            locality: $loc,
            postal: $postal,
            lat: $lat,
            lon: $lon,
            rate_center: $rc,
        }
    };
}

type NanpRow = (&'static str, &'static str, &'static str, &'static [Geo]);

const US_LOCAL: &[NanpRow] = &[
    (
        "415",
        "CA",
        "722",
        &[
            geo!(
                "San Francisco",
                "94107",
                "37.774900",
                "-122.419400",
                "SNFC CNTL"
            ),
            geo!(
                "Sausalito",
                "94965",
                "37.859100",
                "-122.485300",
                "SAUSALITO"
            ),
            geo!(
                "San Rafael",
                "94901",
                "37.973500",
                "-122.531100",
                "SAN RAFAEL"
            ),
        ],
    ),
    (
        "510",
        "CA",
        "722",
        &[
            geo!("Oakland", "94612", "37.804400", "-122.271200", "OKLD"),
            geo!("Berkeley", "94704", "37.871600", "-122.272700", "BERKELEY"),
            geo!("Fremont", "94538", "37.548500", "-121.988600", "FREMONT"),
        ],
    ),
    (
        "310",
        "CA",
        "730",
        &[
            geo!(
                "Los Angeles",
                "90024",
                "34.063500",
                "-118.445500",
                "LSAN DA 12"
            ),
            geo!("Santa Monica", "90401", "34.019500", "-118.491200", "SNMN"),
        ],
    ),
    (
        "212",
        "NY",
        "132",
        &[geo!(
            "New York",
            "10001",
            "40.750600",
            "-73.997200",
            "NWYRCYZN01"
        )],
    ),
    (
        "646",
        "NY",
        "132",
        &[geo!(
            "New York",
            "10016",
            "40.745900",
            "-73.978100",
            "NWYRCYZN01"
        )],
    ),
    (
        "718",
        "NY",
        "132",
        &[
            geo!("Brooklyn", "11201", "40.694300", "-73.990300", "NWYRCYZN05"),
            geo!("Queens", "11375", "40.721400", "-73.844800", "NWYRCYZN04"),
        ],
    ),
    (
        "312",
        "IL",
        "358",
        &[geo!("Chicago", "60601", "41.885800", "-87.618100", "CHCG")],
    ),
    (
        "617",
        "MA",
        "128",
        &[
            geo!("Boston", "02108", "42.357600", "-71.063700", "BOSTON"),
            geo!("Cambridge", "02139", "42.364700", "-71.104200", "CAMBRIDGE"),
        ],
    ),
    (
        "206",
        "WA",
        "674",
        &[geo!(
            "Seattle",
            "98101",
            "47.610500",
            "-122.335600",
            "SEATTLE"
        )],
    ),
    (
        "512",
        "TX",
        "558",
        &[geo!("Austin", "78701", "30.271100", "-97.743700", "AUSTIN")],
    ),
    (
        "214",
        "TX",
        "552",
        &[geo!("Dallas", "75201", "32.787600", "-96.799400", "DALLAS")],
    ),
    (
        "713",
        "TX",
        "560",
        &[geo!(
            "Houston",
            "77002",
            "29.756900",
            "-95.362500",
            "HOUSTON"
        )],
    ),
    (
        "305",
        "FL",
        "460",
        &[geo!("Miami", "33130", "25.767000", "-80.204400", "MIAMI")],
    ),
    (
        "404",
        "GA",
        "438",
        &[geo!(
            "Atlanta",
            "30303",
            "33.753700",
            "-84.386300",
            "ATLANTA"
        )],
    ),
    (
        "303",
        "CO",
        "656",
        &[geo!(
            "Denver",
            "80202",
            "39.752700",
            "-104.999700",
            "DENVER"
        )],
    ),
    (
        "702",
        "NV",
        "721",
        &[geo!(
            "Las Vegas",
            "89101",
            "36.172000",
            "-115.122400",
            "LAS VEGAS"
        )],
    ),
    (
        "808",
        "HI",
        "834",
        &[
            geo!("Hilo", "96720", "19.720000", "-155.090000", "HILO"),
            geo!("Honolulu", "96813", "21.306900", "-157.858300", "HONOLULU"),
        ],
    ),
    (
        "503",
        "OR",
        "672",
        &[geo!(
            "Portland",
            "97204",
            "45.518900",
            "-122.676500",
            "PORTLAND"
        )],
    ),
    (
        "602",
        "AZ",
        "666",
        &[geo!(
            "Phoenix",
            "85004",
            "33.451000",
            "-112.070000",
            "PHOENIX"
        )],
    ),
    (
        "202",
        "DC",
        "236",
        &[geo!(
            "Washington",
            "20001",
            "38.910100",
            "-77.014700",
            "WASHINGTON"
        )],
    ),
    (
        "907",
        "AK",
        "832",
        &[geo!(
            "Anchorage",
            "99501",
            "61.218100",
            "-149.900300",
            "ANCHORAGE"
        )],
    ),
];

const CA_LOCAL: &[NanpRow] = &[
    (
        "416",
        "ON",
        "888",
        &[geo!(
            "Toronto",
            "M5H 2N2",
            "43.651000",
            "-79.383200",
            "TORONTO"
        )],
    ),
    (
        "647",
        "ON",
        "888",
        &[geo!(
            "Toronto",
            "M5V 2T6",
            "43.642600",
            "-79.387100",
            "TORONTO"
        )],
    ),
    (
        "613",
        "ON",
        "888",
        &[geo!(
            "Ottawa",
            "K1P 1J1",
            "45.421500",
            "-75.697200",
            "OTTAWA"
        )],
    ),
    (
        "604",
        "BC",
        "888",
        &[geo!(
            "Vancouver",
            "V6B 1A1",
            "49.282700",
            "-123.120700",
            "VANCOUVER"
        )],
    ),
    (
        "514",
        "QC",
        "888",
        &[geo!(
            "Montreal",
            "H2Y 1C6",
            "45.501700",
            "-73.567300",
            "MONTREAL"
        )],
    ),
    (
        "403",
        "AB",
        "888",
        &[geo!(
            "Calgary",
            "T2P 1J9",
            "51.044700",
            "-114.071900",
            "CALGARY"
        )],
    ),
];

const NANP_TOLL_FREE: &[&str] = &["800", "833", "844", "855", "866", "877", "888"];

/// (iso, country name, kind, cc, prefix, rest, locality, voice, sms, mms, address requirements)
type IntlRow = (
    &'static str,
    &'static str,
    NumberType,
    &'static str,
    &'static str,
    u8,
    Option<&'static str>,
    bool,
    bool,
    bool,
    &'static str,
);

const INTL: &[IntlRow] = &[
    (
        "GB",
        "United Kingdom",
        NumberType::Local,
        "44",
        "20",
        8,
        Some("London"),
        true,
        false,
        false,
        "any",
    ),
    (
        "GB",
        "United Kingdom",
        NumberType::Local,
        "44",
        "161",
        7,
        Some("Manchester"),
        true,
        false,
        false,
        "any",
    ),
    (
        "GB",
        "United Kingdom",
        NumberType::Local,
        "44",
        "121",
        7,
        Some("Birmingham"),
        true,
        false,
        false,
        "any",
    ),
    (
        "GB",
        "United Kingdom",
        NumberType::Local,
        "44",
        "131",
        7,
        Some("Edinburgh"),
        true,
        false,
        false,
        "any",
    ),
    (
        "GB",
        "United Kingdom",
        NumberType::Local,
        "44",
        "141",
        7,
        Some("Glasgow"),
        true,
        false,
        false,
        "any",
    ),
    (
        "GB",
        "United Kingdom",
        NumberType::Mobile,
        "44",
        "7",
        9,
        None,
        true,
        true,
        false,
        "any",
    ),
    (
        "GB",
        "United Kingdom",
        NumberType::TollFree,
        "44",
        "800",
        7,
        None,
        true,
        false,
        false,
        "none",
    ),
    (
        "GB",
        "United Kingdom",
        NumberType::TollFree,
        "44",
        "808",
        7,
        None,
        true,
        false,
        false,
        "none",
    ),
    (
        "DE",
        "Germany",
        NumberType::Local,
        "49",
        "30",
        8,
        Some("Berlin"),
        true,
        false,
        false,
        "local",
    ),
    (
        "DE",
        "Germany",
        NumberType::Local,
        "49",
        "89",
        8,
        Some("München"),
        true,
        false,
        false,
        "local",
    ),
    (
        "DE",
        "Germany",
        NumberType::Local,
        "49",
        "40",
        8,
        Some("Hamburg"),
        true,
        false,
        false,
        "local",
    ),
    (
        "DE",
        "Germany",
        NumberType::Local,
        "49",
        "69",
        8,
        Some("Frankfurt am Main"),
        true,
        false,
        false,
        "local",
    ),
    (
        "DE",
        "Germany",
        NumberType::Local,
        "49",
        "221",
        7,
        Some("Köln"),
        true,
        false,
        false,
        "local",
    ),
    (
        "DE",
        "Germany",
        NumberType::Mobile,
        "49",
        "157",
        8,
        None,
        true,
        true,
        false,
        "any",
    ),
    (
        "DE",
        "Germany",
        NumberType::Mobile,
        "49",
        "176",
        8,
        None,
        true,
        true,
        false,
        "any",
    ),
    (
        "DE",
        "Germany",
        NumberType::TollFree,
        "49",
        "800",
        7,
        None,
        true,
        false,
        false,
        "any",
    ),
    (
        "AU",
        "Australia",
        NumberType::Local,
        "61",
        "2",
        8,
        Some("Sydney"),
        true,
        false,
        false,
        "any",
    ),
    (
        "AU",
        "Australia",
        NumberType::Local,
        "61",
        "3",
        8,
        Some("Melbourne"),
        true,
        false,
        false,
        "any",
    ),
    (
        "AU",
        "Australia",
        NumberType::Local,
        "61",
        "7",
        8,
        Some("Brisbane"),
        true,
        false,
        false,
        "any",
    ),
    (
        "AU",
        "Australia",
        NumberType::Local,
        "61",
        "8",
        8,
        Some("Perth"),
        true,
        false,
        false,
        "any",
    ),
    (
        "AU",
        "Australia",
        NumberType::Mobile,
        "61",
        "4",
        8,
        None,
        true,
        true,
        true,
        "any",
    ),
    (
        "AU",
        "Australia",
        NumberType::TollFree,
        "61",
        "1800",
        6,
        None,
        true,
        false,
        false,
        "none",
    ),
];

/// Every block of the inventory, in a fixed order.
pub fn blocks() -> Vec<BlockSpec> {
    let mut out = Vec::new();
    for (iso, name, rows, parity) in [
        ("US", "United States", US_LOCAL, 0u64),
        ("CA", "Canada", CA_LOCAL, 1),
    ] {
        for (npa, region, lata, geos) in rows {
            out.push(BlockSpec {
                iso,
                country_name: name,
                kind: NumberType::Local,
                cc: "1",
                prefix: npa,
                rest: 7,
                region: Some(region),
                lata: Some(lata),
                locality: None,
                geos,
                voice: true,
                sms: true,
                mms: true,
                address_requirements: "none",
                parity: None,
            });
        }
        for tf in NANP_TOLL_FREE {
            out.push(BlockSpec {
                iso,
                country_name: name,
                kind: NumberType::TollFree,
                cc: "1",
                prefix: tf,
                rest: 7,
                region: None,
                lata: None,
                locality: None,
                geos: &[],
                voice: true,
                sms: true,
                mms: false,
                address_requirements: "none",
                parity: Some(parity),
            });
        }
    }
    for &(iso, name, kind, cc, prefix, rest, locality, voice, sms, mms, addr) in INTL {
        out.push(BlockSpec {
            iso,
            country_name: name,
            kind,
            cc,
            prefix,
            rest,
            region: None,
            lata: None,
            locality,
            geos: &[],
            voice,
            sms,
            mms,
            address_requirements: addr,
            parity: None,
        });
    }
    out
}
