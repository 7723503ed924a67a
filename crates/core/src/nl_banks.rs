//! Dutch banks by the bank code in positions 5 to 8 of an NL IBAN (`NL91 ABNA …`).
//!
//! Facts from the Dutch banks' published BIC/bank-code list. Used to name the payee's bank in
//! results and to generate realistic demo data; the PNBF procedure maps codes to partners.

/// A Dutch bank code and the name people know the bank by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NlBank {
    pub code: &'static str,
    pub name: &'static str,
}

/// Dutch bank codes, roughly by number of retail customers.
pub const NL_BANKS: &[NlBank] = &[
    NlBank { code: "INGB", name: "ING" },
    NlBank {
        code: "RABO",
        name: "Rabobank",
    },
    NlBank {
        code: "ABNA",
        name: "ABN AMRO",
    },
    NlBank { code: "SNSB", name: "SNS" },
    NlBank {
        code: "ASNB",
        name: "ASN Bank",
    },
    NlBank {
        code: "RBRB",
        name: "RegioBank",
    },
    NlBank {
        code: "BUNQ",
        name: "bunq",
    },
    NlBank {
        code: "KNAB",
        name: "Knab",
    },
    NlBank {
        code: "TRIO",
        name: "Triodos Bank",
    },
    NlBank {
        code: "FVLB",
        name: "Van Lanschot Kempen",
    },
    NlBank {
        code: "NNBA",
        name: "Nationale-Nederlanden Bank",
    },
    NlBank {
        code: "HAND",
        name: "Svenska Handelsbanken",
    },
    NlBank {
        code: "AEGO",
        name: "Aegon Bank",
    },
    NlBank {
        code: "ADYB",
        name: "Adyen",
    },
    NlBank {
        code: "DEUT",
        name: "Deutsche Bank",
    },
    NlBank {
        code: "NWAB",
        name: "Nederlandse Waterschapsbank",
    },
    NlBank {
        code: "BNGH",
        name: "BNG Bank",
    },
    NlBank {
        code: "COBA",
        name: "Commerzbank",
    },
    NlBank {
        code: "CITI",
        name: "Citibank",
    },
    NlBank {
        code: "HSBC",
        name: "HSBC",
    },
    NlBank {
        code: "ICBK",
        name: "ICBC",
    },
    NlBank {
        code: "ISBK",
        name: "Isbank",
    },
    NlBank {
        code: "DHBN",
        name: "Demir-Halk Bank",
    },
    NlBank {
        code: "FBHL",
        name: "Credit Europe Bank",
    },
];

/// The bank for a Dutch bank code.
pub fn bank_by_code(code: &str) -> Option<&'static NlBank> {
    NL_BANKS.iter().find(|b| b.code == code)
}
