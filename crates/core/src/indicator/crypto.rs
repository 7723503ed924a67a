//! Crypto-currency addresses: `chain:address`, checksum-validated.
//!
//! Bitcoin and Litecoin addresses in base58check or bech32/bech32m (segwit), Ethereum
//! addresses with the EIP-55 checksum when they are written in mixed case, and Tron
//! addresses (base58check, version 0x41), the chain most used for USDT in investment fraud.
//! Canonical forms: bech32 in lower case, Ethereum in EIP-55 mixed case, base58 as written.

use std::fmt;

use sha3::{Digest, Keccak256};

/// The chains Vangnet understands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Chain {
    Btc,
    Eth,
    Ltc,
    Trx,
}

impl Chain {
    /// The short key used in the canonical form.
    pub fn as_str(self) -> &'static str {
        match self {
            Chain::Btc => "btc",
            Chain::Eth => "eth",
            Chain::Ltc => "ltc",
            Chain::Trx => "trx",
        }
    }

    fn from_prefix(prefix: &str) -> Option<Chain> {
        match prefix.to_ascii_lowercase().as_str() {
            "btc" | "bitcoin" => Some(Chain::Btc),
            "eth" | "ethereum" | "erc20" => Some(Chain::Eth),
            "ltc" | "litecoin" => Some(Chain::Ltc),
            "trx" | "tron" | "trc20" => Some(Chain::Trx),
            _ => None,
        }
    }
}

/// Why a value is not a valid crypto address.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CryptoProblem {
    #[error("unknown chain `{0}`; use btc, eth, ltc or trx")]
    UnknownChain(String),
    #[error("it does not look like an address of any supported chain")]
    Unrecognised,
    #[error("the checksum does not match; there may be a typing error")]
    Checksum,
    #[error("it is not a valid {0} address")]
    Format(&'static str),
}

/// A checksum-validated crypto address with its chain.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CryptoAddress {
    chain: Chain,
    value: String,
}

impl CryptoAddress {
    /// Parses `chain:address`, a payment URI (`bitcoin:…?amount=…`) or a bare address.
    pub fn parse(raw: &str) -> Result<CryptoAddress, CryptoProblem> {
        let raw = raw.trim();
        let (chain, address) = match raw.split_once(':') {
            Some((prefix, rest)) => {
                let chain = Chain::from_prefix(prefix).ok_or_else(|| CryptoProblem::UnknownChain(prefix.chars().take(16).collect()))?;
                (Some(chain), rest)
            }
            None => (None, raw),
        };
        // Payment URIs carry parameters after the address (BIP 21, EIP 681).
        let address = address.split(['?', '@', '/']).next().unwrap_or("").trim();
        if address.is_empty() || address.len() > 100 || !address.is_ascii() {
            return Err(CryptoProblem::Unrecognised);
        }
        let chain = match chain {
            Some(chain) => chain,
            None => detect_chain(address).ok_or(CryptoProblem::Unrecognised)?,
        };
        let value = match chain {
            Chain::Eth => eth(address)?,
            Chain::Btc => utxo(address, "bc", &[0x00, 0x05], "Bitcoin")?,
            Chain::Ltc => utxo(address, "ltc", &[0x30, 0x32, 0x05], "Litecoin")?,
            Chain::Trx => base58(address, &[0x41], 21, "Tron")?,
        };
        Ok(CryptoAddress {
            value: format!("{}:{value}", chain.as_str()),
            chain,
        })
    }

    /// The canonical `chain:address` form.
    pub fn as_str(&self) -> &str {
        &self.value
    }

    /// The chain.
    pub fn chain(&self) -> Chain {
        self.chain
    }
}

impl fmt::Display for CryptoAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.value)
    }
}

/// Guesses the chain of a bare address from its shape; `None` when nothing fits.
pub(crate) fn detect_chain(address: &str) -> Option<Chain> {
    let starts = |prefix: &str| address.get(..prefix.len()).is_some_and(|p| p.eq_ignore_ascii_case(prefix));
    if address.len() == 42 && starts("0x") && address.bytes().skip(2).all(|b| b.is_ascii_hexdigit()) {
        return Some(Chain::Eth);
    }
    if starts("bc1") {
        return Some(Chain::Btc);
    }
    if starts("ltc1") {
        return Some(Chain::Ltc);
    }
    let base58_shape = (26..=35).contains(&address.len()) && address.bytes().all(is_base58);
    if !base58_shape {
        return None;
    }
    match address.as_bytes()[0] {
        b'1' | b'3' => Some(Chain::Btc),
        b'L' | b'M' => Some(Chain::Ltc),
        b'T' if address.len() == 34 => Some(Chain::Trx),
        _ => None,
    }
}

fn is_base58(b: u8) -> bool {
    b.is_ascii_alphanumeric() && !matches!(b, b'0' | b'O' | b'I' | b'l')
}

/// An Ethereum address in EIP-55 form; a mixed-case input must carry a correct checksum.
fn eth(address: &str) -> Result<String, CryptoProblem> {
    let hex = address
        .strip_prefix("0x")
        .or_else(|| address.strip_prefix("0X"))
        .ok_or(CryptoProblem::Format("Ethereum"))?;
    if hex.len() != 40 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(CryptoProblem::Format("Ethereum"));
    }
    let checksummed = eip55(hex);
    let has_upper = hex.bytes().any(|b| b.is_ascii_uppercase());
    let has_lower = hex.bytes().any(|b| b.is_ascii_lowercase());
    if has_upper && has_lower && checksummed[2..] != *hex {
        return Err(CryptoProblem::Checksum);
    }
    Ok(checksummed)
}

/// The EIP-55 mixed-case checksum form of 40 hex digits.
fn eip55(hex: &str) -> String {
    let lower = hex.to_ascii_lowercase();
    let hash = Keccak256::digest(lower.as_bytes());
    let mut out = String::with_capacity(42);
    out.push_str("0x");
    for (i, c) in lower.chars().enumerate() {
        let byte = hash[i / 2];
        let nibble = if i % 2 == 0 { byte >> 4 } else { byte & 0x0f };
        out.push(if c.is_ascii_alphabetic() && nibble >= 8 {
            c.to_ascii_uppercase()
        } else {
            c
        });
    }
    out
}

/// A Bitcoin-style address: segwit (bech32/bech32m) with the given human-readable part, or
/// base58check with one of the given version bytes.
fn utxo(address: &str, hrp: &str, versions: &[u8], name: &'static str) -> Result<String, CryptoProblem> {
    let lower = address.to_ascii_lowercase();
    if lower.starts_with(&format!("{hrp}1")) {
        use bech32::primitives::decode::{SegwitHrpstring, SegwitHrpstringError};
        let decoded = SegwitHrpstring::new(address).map_err(|e| match e {
            SegwitHrpstringError::Checksum(_) => CryptoProblem::Checksum,
            _ => CryptoProblem::Format(name),
        })?;
        let found_hrp = decoded.hrp();
        if found_hrp.to_lowercase() != hrp {
            return Err(CryptoProblem::Format(name));
        }
        return Ok(lower);
    }
    base58(address, versions, 21, name)
}

/// A base58check address whose decoded payload has the given length and version byte.
fn base58(address: &str, versions: &[u8], payload_len: usize, name: &'static str) -> Result<String, CryptoProblem> {
    if !address.bytes().all(is_base58) {
        return Err(CryptoProblem::Format(name));
    }
    let payload = bs58::decode(address).with_check(None).into_vec().map_err(|e| match e {
        bs58::decode::Error::InvalidChecksum { .. } => CryptoProblem::Checksum,
        _ => CryptoProblem::Format(name),
    })?;
    if payload.len() != payload_len || !versions.contains(&payload[0]) {
        return Err(CryptoProblem::Format(name));
    }
    Ok(address.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn crypto(raw: &str) -> Result<String, CryptoProblem> {
        CryptoAddress::parse(raw).map(|c| c.value)
    }

    #[test]
    fn bitcoin_addresses() {
        // The genesis block's address, a P2SH address and BIP 173/350 test vectors.
        assert_eq!(
            crypto("1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa"),
            Ok("btc:1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa".into())
        );
        assert_eq!(
            crypto("3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy"),
            Ok("btc:3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy".into())
        );
        assert_eq!(
            crypto("BC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KV8F3T4"),
            Ok("btc:bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4".into())
        );
        assert_eq!(
            crypto("bitcoin:bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0?amount=0.1"),
            Ok("btc:bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0".into())
        );
        assert_eq!(crypto("1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNb"), Err(CryptoProblem::Checksum));
        // A segwit v0 program with a bech32m checksum is invalid (BIP 350).
        assert!(crypto("bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kemeawh").is_err());
    }

    #[test]
    fn ethereum_addresses() {
        // EIP-55 test vectors.
        let good = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed";
        assert_eq!(crypto(good), Ok(format!("eth:{good}")));
        assert_eq!(crypto(&good.to_lowercase()), Ok(format!("eth:{good}")));
        assert_eq!(crypto("eth:0X5AAEB6053F3E94C9B9A09F33669435E7EF1BEAED"), Ok(format!("eth:{good}")));
        assert_eq!(crypto("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD"), Err(CryptoProblem::Checksum));
        assert_eq!(crypto("eth:0x1234"), Err(CryptoProblem::Format("Ethereum")));
    }

    #[test]
    fn tron_and_litecoin() {
        assert_eq!(
            crypto("TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t"),
            Ok("trx:TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t".into())
        );
        assert_eq!(crypto("tron:TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6u"), Err(CryptoProblem::Checksum));
        assert_eq!(
            crypto("doge:DH5yaieqoZN36fDVciNyRueRGvGLR3mr7L"),
            Err(CryptoProblem::UnknownChain("doge".into()))
        );
    }

    proptest! {
        #[test]
        fn eth_idempotent(hex in "[0-9a-f]{40}") {
            let c = CryptoAddress::parse(&format!("0x{hex}")).expect("lower case is always valid");
            prop_assert_eq!(CryptoAddress::parse(c.as_str()).expect("canonical"), c);
        }

        #[test]
        fn never_panics(raw in "\\PC{0,60}") {
            if let Ok(c) = CryptoAddress::parse(&raw) {
                prop_assert_eq!(CryptoAddress::parse(c.as_str()).map(|x| x.value), Ok(c.value));
            }
        }
    }
}
