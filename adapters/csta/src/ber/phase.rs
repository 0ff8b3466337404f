//! The `phase = 2|3` key and the table each phase fills ([`super::phase2::MODULE`],
//! [`super::phase3::MODULE`]).

use super::module::Module;

/// The `phase = 2|3` key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// ECMA-217/218: Alcatel OmniPCX, Hicom/HiPath 4000, MD110-era switches.
    Two,
    /// ECMA-285.
    Three,
}

impl Phase {
    pub fn module(self) -> &'static Module {
        match self {
            Phase::Two => &super::phase2::MODULE,
            Phase::Three => &super::phase3::MODULE,
        }
    }

    /// `--phase` of `ctibridge decode`.
    pub fn parse(text: &str) -> Result<Phase, String> {
        match text {
            "2" => Ok(Phase::Two),
            "3" => Ok(Phase::Three),
            other => Err(format!("unknown CSTA phase `{other}`; expected 2 or 3")),
        }
    }
}
