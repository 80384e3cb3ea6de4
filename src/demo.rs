//! Placeholder until the demo generator lands.
use crate::bundle::Bundle;
pub fn demo_bundle(_today: chrono::NaiveDate) -> Bundle {
    Bundle::default()
}
