//! The catalogue in memory: every role, its db roles and an index of every eligibility rule,
//! so that resolving one user against 2,000 roles and 50,000 rules costs three small reads
//! (the catalogue's version, the user's teams, the user's overrides) instead of queries per
//! role.
//!
//! Correct across processes: every catalogue write bumps `catalog_version` in its own
//! transaction (`catalog::bump_version`), and every use reads the version first, on the
//! caller's connection. A snapshot is used only if it was loaded at exactly that version;
//! otherwise the caller reloads it (one at a time per process; the others wait and reuse it).
//! A snapshot is loaded version first, then data, so its data is never older than its version.

use std::collections::HashMap;
use std::sync::{Arc, PoisonError, RwLock};

use jitea_shared::{Role, RoleDbRole};
use tokio::sync::Mutex;

use crate::domain::eligibility::RuleIndex;

use super::{catalog, eligibility, Db, StoreError};

/// The catalogue as of one version.
#[derive(Debug)]
pub struct CatalogSnapshot {
    pub version: i64,
    /// Every role, by name.
    pub roles: Vec<Role>,
    /// Each role's db roles, by db-role name.
    db_roles: HashMap<i64, Vec<RoleDbRole>>,
    /// Every rule that can match someone, filed by what it is about.
    pub rules: RuleIndex,
}

impl CatalogSnapshot {
    pub fn db_roles(&self, role_id: i64) -> &[RoleDbRole] {
        self.db_roles.get(&role_id).map_or(&[], Vec::as_slice)
    }

    async fn load(db: &mut Db<'_>) -> Result<Self, StoreError> {
        let version = catalog::version(db).await?;
        let roles = catalog::all_roles(db).await?;
        let mut db_roles: HashMap<i64, Vec<RoleDbRole>> = HashMap::new();
        for m in catalog::all_role_db_roles(db).await? {
            db_roles.entry(m.role_id).or_default().push(m);
        }
        let rules = eligibility::rule_index(db).await?;
        Ok(Self {
            version,
            roles,
            db_roles,
            rules,
        })
    }
}

/// One per process (it lives in the [`super::Store`]).
#[derive(Debug, Default)]
pub struct CatalogCache {
    current: RwLock<Option<Arc<CatalogSnapshot>>>,
    reloading: Mutex<()>,
}

impl CatalogCache {
    /// The catalogue as `db` sees it now (inside the caller's transaction, if any).
    pub async fn snapshot(&self, db: &mut Db<'_>) -> Result<Arc<CatalogSnapshot>, StoreError> {
        let version = catalog::version(db).await?;
        if let Some(s) = self.at(version) {
            return Ok(s);
        }
        let _one_loader = self.reloading.lock().await;
        if let Some(s) = self.at(version) {
            return Ok(s);
        }
        let s = Arc::new(CatalogSnapshot::load(db).await?);
        *self.current.write().unwrap_or_else(PoisonError::into_inner) = Some(s.clone());
        Ok(s)
    }

    fn at(&self, version: i64) -> Option<Arc<CatalogSnapshot>> {
        self.current
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .as_ref()
            .filter(|s| s.version == version)
            .cloned()
    }
}
