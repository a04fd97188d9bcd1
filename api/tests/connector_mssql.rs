//! SQL Server connector against a real server. SQL Server cannot run on the development
//! machine, so this runs only when `JITEA_TEST_MSSQL_URL` points at one (a database where the
//! URL's user may create roles and users); otherwise it says it was skipped. The statements it
//! sends are unit-tested and T-SQL syntax-checked in every run (see `provision::mssql`).

// Test scaffolding: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

use jitea::provision::mssql::{quote_ident, MssqlConnector};
use jitea::provision::{Connector, TargetRef};
use jitea_shared::TargetKind;
use sqlx_oldapi::{Connection, Executor, MssqlConnection};

#[test]
fn mssql_membership_round_trip_when_configured() {
    let Ok(url) = std::env::var("JITEA_TEST_MSSQL_URL") else {
        eprintln!("skipped: set JITEA_TEST_MSSQL_URL to run the SQL Server connector test");
        return;
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let tag = format!("jt{}_", std::process::id());
        let (role, user) = (format!("{tag}reader]x"), format!("{tag}al'ice"));
        let mut admin = MssqlConnection::connect(&url)
            .await
            .expect("connect to SQL Server");
        admin
            .execute(format!("CREATE ROLE {}", quote_ident(&role).unwrap()).as_str())
            .await
            .unwrap();
        admin
            .execute(format!("CREATE USER {} WITHOUT LOGIN", quote_ident(&user).unwrap()).as_str())
            .await
            .unwrap();
        std::env::set_var("JITEA_TARGET_MSSQL_TEST_URL", &url);
        let t = TargetRef {
            id: 1,
            kind: TargetKind::Mssql,
            url_env: Some("JITEA_TARGET_MSSQL_TEST_URL".into()),
            settings: None,
            principal_from: Default::default(),
        };
        let c = MssqlConnector::new();
        let result = async {
            c.ping(&t).await?;
            assert!(c.role_exists(&t, &role).await?);
            c.add_member(&t, &role, &user).await?;
            c.add_member(&t, &role, &user).await?;
            assert_eq!(c.members(&t, &role).await?, vec![user.clone()]);
            c.drop_member(&t, &role, &user).await?;
            c.drop_member(&t, &role, &user).await?;
            assert!(c.members(&t, &role).await?.is_empty());
            Ok::<(), jitea::provision::ConnectorError>(())
        }
        .await;
        let _ = admin
            .execute(format!("DROP USER {}", quote_ident(&user).unwrap()).as_str())
            .await;
        let _ = admin
            .execute(format!("DROP ROLE {}", quote_ident(&role).unwrap()).as_str())
            .await;
        result.expect("SQL Server connector round trip");
    });
}
