//! Real target databases for live provisioning tests: the PostgreSQL and MariaDB servers on
//! this machine. Every object a test creates carries a unique prefix and is dropped on `Drop`.

use std::sync::atomic::{AtomicU32, Ordering};

use sqlx_oldapi::{Connection, Executor, MySqlConnection, PgConnection, Row};
use tokio::runtime::Runtime;

static N: AtomicU32 = AtomicU32::new(0);

fn rt() -> Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// A unique lowercase prefix for names created by one test.
pub fn prefix() -> String {
    format!(
        "jt{}x{}x{}_",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst),
        rand::random::<u16>()
    )
}

pub const PG_ADMIN_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";
pub const MYSQL_ADMIN_URL: &str = "mysql://root@127.0.0.1:3306/test";

/// A PostgreSQL target: the local server, reached as its superuser.
pub struct PgTarget {
    pub prefix: String,
    rt: Runtime,
    conn: PgConnection,
}

impl PgTarget {
    pub fn new() -> Self {
        let rt = rt();
        let conn = rt
            .block_on(PgConnection::connect(PG_ADMIN_URL))
            .expect("PostgreSQL target at 127.0.0.1:5432");
        Self {
            prefix: prefix(),
            rt,
            conn,
        }
    }

    /// `prefix` + `name`.
    pub fn name(&self, name: &str) -> String {
        format!("{}{name}", self.prefix)
    }

    pub fn exec(&mut self, sql: &str) {
        let c = &mut self.conn;
        self.rt
            .block_on(async { c.execute(sql).await })
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
    }

    /// Login names that are members of `role`.
    pub fn members(&mut self, role: &str) -> Vec<String> {
        let c = &mut self.conn;
        let rows = self
            .rt
            .block_on(async {
                sqlx_oldapi::query(
                    "SELECT m.rolname FROM pg_auth_members am JOIN pg_roles r ON r.oid = am.roleid \
                     JOIN pg_roles m ON m.oid = am.member WHERE r.rolname = $1 ORDER BY 1",
                )
                .bind(role)
                .fetch_all(c)
                .await
            })
            .unwrap();
        rows.iter().map(|r| r.get::<String, _>(0)).collect()
    }

    /// Opens a session as `login` (trust authentication).
    pub fn session_as(&self, login: &str) -> PgSession {
        let rt = rt();
        let url = format!("postgres://{login}@127.0.0.1:5432/postgres");
        let conn = rt
            .block_on(PgConnection::connect(&url))
            .unwrap_or_else(|e| panic!("connect as {login}: {e}"));
        PgSession { rt, conn }
    }
}

impl Default for PgTarget {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for PgTarget {
    fn drop(&mut self) {
        let like = format!("{}%", self.prefix);
        let c = &mut self.conn;
        let _ = self.rt.block_on(async {
            let tables = sqlx_oldapi::query(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename LIKE $1",
            )
            .bind(&like)
            .fetch_all(&mut *c)
            .await?;
            for t in tables {
                let name: String = t.get(0);
                c.execute(format!("DROP TABLE IF EXISTS \"{name}\"").as_str())
                    .await?;
            }
            let pids = format!(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename LIKE '{}%'",
                self.prefix
            );
            c.execute(pids.as_str()).await?;
            let roles = sqlx_oldapi::query("SELECT rolname FROM pg_roles WHERE rolname LIKE $1")
                .bind(&like)
                .fetch_all(&mut *c)
                .await?;
            for r in roles {
                let name: String = r.get(0);
                c.execute(format!("DROP ROLE IF EXISTS \"{name}\"").as_str())
                    .await?;
            }
            Ok::<(), sqlx_oldapi::Error>(())
        });
    }
}

/// A session opened as some login.
pub struct PgSession {
    rt: Runtime,
    conn: PgConnection,
}

impl PgSession {
    pub fn exec(&mut self, sql: &str) -> Result<(), String> {
        let c = &mut self.conn;
        self.rt
            .block_on(async { c.execute(sql).await })
            .map(|_| ())
            .map_err(|e| e.to_string())
    }
}

/// A MariaDB/MySQL target: the local server, reached as root.
pub struct MysqlTarget {
    pub prefix: String,
    rt: Runtime,
    conn: MySqlConnection,
}

impl MysqlTarget {
    pub fn new() -> Self {
        let rt = rt();
        let conn = rt
            .block_on(MySqlConnection::connect(MYSQL_ADMIN_URL))
            .expect("MariaDB target at 127.0.0.1:3306");
        Self {
            prefix: prefix(),
            rt,
            conn,
        }
    }

    pub fn name(&self, name: &str) -> String {
        format!("{}{name}", self.prefix)
    }

    pub fn exec(&mut self, sql: &str) {
        let c = &mut self.conn;
        self.rt
            .block_on(async { c.execute(sql).await })
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
    }

    /// Users granted `role` (MariaDB's `mysql.roles_mapping`, without the creator's admin row).
    pub fn members(&mut self, role: &str) -> Vec<String> {
        let c = &mut self.conn;
        let rows = self
            .rt
            .block_on(async {
                sqlx_oldapi::query("SELECT DISTINCT CAST(User AS CHAR) FROM mysql.roles_mapping WHERE Role = ? AND Admin_option = 'N' ORDER BY 1")
                    .bind(role)
                    .fetch_all(c)
                    .await
            })
            .unwrap();
        rows.iter().map(|r| r.get::<String, _>(0)).collect()
    }

    /// Opens a session as `user` with `password`.
    pub fn session_as(&self, user: &str, password: &str) -> MysqlSession {
        let rt = rt();
        // No default database: MariaDB checks access to it before the default role is active.
        let url = format!("mysql://{user}:{password}@127.0.0.1:3306");
        let conn = rt
            .block_on(MySqlConnection::connect(&url))
            .unwrap_or_else(|e| panic!("connect as {user}: {e}"));
        MysqlSession { rt, conn }
    }
}

impl Default for MysqlTarget {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for MysqlTarget {
    fn drop(&mut self) {
        let like = format!("{}%", self.prefix);
        let c = &mut self.conn;
        let _ = self.rt.block_on(async {
            let tables = sqlx_oldapi::query("SELECT CAST(TABLE_NAME AS CHAR) FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'test' AND TABLE_NAME LIKE ?")
                .bind(&like)
                .fetch_all(&mut *c)
                .await?;
            for t in tables {
                let name: String = t.get(0);
                c.execute(format!("DROP TABLE IF EXISTS test.`{name}`").as_str()).await?;
            }
            let users = sqlx_oldapi::query("SELECT CAST(User AS CHAR), CAST(Host AS CHAR), CAST(is_role AS CHAR) FROM mysql.user WHERE User LIKE ?")
                .bind(&like)
                .fetch_all(&mut *c)
                .await?;
            for u in users {
                let (name, host, is_role): (String, String, String) = (u.get(0), u.get(1), u.get(2));
                let sql = if is_role == "Y" { format!("DROP ROLE IF EXISTS `{name}`") } else { format!("DROP USER IF EXISTS `{name}`@`{host}`") };
                c.execute(sql.as_str()).await?;
            }
            Ok::<(), sqlx_oldapi::Error>(())
        });
    }
}

pub struct MysqlSession {
    rt: Runtime,
    conn: MySqlConnection,
}

impl MysqlSession {
    pub fn exec(&mut self, sql: &str) -> Result<(), String> {
        let c = &mut self.conn;
        self.rt
            .block_on(async { c.execute(sql).await })
            .map(|_| ())
            .map_err(|e| e.to_string())
    }
}
