//! Project behaviour patterns (PBM) for the surfaces: the account's
//! patterns with, on each warning about a missing role or level, who holds
//! it and our best tie to them, from the engine's current scores.

use renmai_graph::closeness::OurCloseness;
use renmai_graph::patterns::{AccountPatterns, account_patterns_with_ties};
use renmai_graph::{AccountData, DealConfig};

use crate::engine::Engine;
use crate::store::StoreError;

/// The account's patterns and warnings, with our closeness as of now.
pub async fn patterns(
    engine: &Engine,
    cfg: &DealConfig,
    data: &AccountData,
) -> Result<AccountPatterns, StoreError> {
    let ties: Vec<OurCloseness> = engine
        .scores(&data.account.id, None)
        .await?
        .map(|s| s.stakeholders.iter().map(|x| x.closeness.clone()).collect())
        .unwrap_or_default();
    Ok(account_patterns_with_ties(data, cfg, &ties))
}
