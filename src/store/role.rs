//! What the service's database role may do, against what it needs. The need is the grant list
//! an operator applies (`config/service-role-grants.sql`, built into the binary), so the
//! document and the check cannot drift apart.

use sqlx::PgPool;

/// The grants the service's role needs, as documented for operators.
const GRANTS: &str = include_str!("../../config/service-role-grants.sql");

/// What a privilege is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ObjectKind {
    Table,
    Sequence,
    Function,
}

impl ObjectKind {
    fn as_str(self) -> &'static str {
        match self {
            Self::Table => "table",
            Self::Sequence => "sequence",
            Self::Function => "function",
        }
    }
}

/// One privilege on one table, sequence or function.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    pub privilege: String,
    pub object: String,
    pub kind: ObjectKind,
}

impl std::fmt::Display for Grant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = match self.kind {
            ObjectKind::Table => "",
            ObjectKind::Sequence => "sequence ",
            ObjectKind::Function => "function ",
        };
        write!(f, "{} on {kind}{}", self.privilege, self.object)
    }
}

/// Each privilege of each `GRANT privileges ON [SEQUENCE|FUNCTION] objects TO role;` in `sql`.
fn parse(sql: &str) -> Vec<Grant> {
    let code: String = sql
        .lines()
        .map(|line| line.split_once("--").map_or(line, |(code, _)| code))
        .collect::<Vec<_>>()
        .join(" ");
    let mut grants = Vec::new();
    for statement in code.split(';') {
        let words: Vec<&str> = statement.split_whitespace().collect();
        let (Some(on), Some(to)) = (
            words.iter().position(|w| w.eq_ignore_ascii_case("ON")),
            words.iter().position(|w| w.eq_ignore_ascii_case("TO")),
        ) else {
            continue;
        };
        if !words[0].eq_ignore_ascii_case("GRANT") || to < on {
            continue;
        }
        let kind = match words[on + 1].to_ascii_uppercase().as_str() {
            "SEQUENCE" => ObjectKind::Sequence,
            "FUNCTION" => ObjectKind::Function,
            _ => ObjectKind::Table,
        };
        let first = on + 1 + usize::from(kind != ObjectKind::Table);
        let objects = words[first..to].join(" ");
        for privilege in words[1..on].join(" ").split(',') {
            for object in objects.split(',') {
                grants.push(Grant {
                    privilege: privilege.trim().to_uppercase(),
                    object: object.trim().to_owned(),
                    kind,
                });
            }
        }
    }
    grants
}

/// What the connected role may do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RolePrivileges {
    pub role: String,
    /// Needed and not held (or on an object that does not exist).
    pub missing: Vec<Grant>,
    /// Held beyond the list, on the schema's tables and sequences (not for a superuser or an
    /// owner: they hold everything, and `rewrites_audit` says so).
    pub extra: Vec<Grant>,
    /// How the role could rewrite the audit log, if it can: the append-only triggers stop an
    /// UPDATE or DELETE, but an owner or superuser may switch them off; a role that may delete
    /// pending events or write the chain itself could erase or forge events before they are
    /// chained.
    pub rewrites_audit: Option<&'static str>,
}

/// The log's tables, on which any privilege beyond the list lets a role erase or forge events.
const AUDIT_TABLES: [&str; 2] = ["audit_events", "audit_pending"];

/// Reads the connected role's privileges (two queries; changes nothing).
pub async fn privileges(db: &PgPool) -> Result<RolePrivileges, sqlx::Error> {
    let needed = parse(GRANTS);
    let missing: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT g.object, g.privilege, g.kind
           FROM unnest($1::text[], $2::text[], $3::text[]) AS g(object, privilege, kind)
          WHERE CASE WHEN g.kind = 'function' THEN
                          to_regprocedure(g.object) IS NULL
                          OR NOT has_function_privilege(g.object, g.privilege)
                     WHEN to_regclass(g.object) IS NULL THEN true
                     WHEN g.kind = 'sequence' THEN NOT has_sequence_privilege(g.object, g.privilege)
                     ELSE NOT has_table_privilege(g.object, g.privilege) END",
    )
    .bind(needed.iter().map(|g| g.object.clone()).collect::<Vec<_>>())
    .bind(
        needed
            .iter()
            .map(|g| g.privilege.clone())
            .collect::<Vec<_>>(),
    )
    .bind(needed.iter().map(|g| g.kind.as_str()).collect::<Vec<_>>())
    .fetch_all(db)
    .await?;
    // Every privilege the role holds on the schema's tables and sequences.
    let held: Vec<(String, String, bool)> = sqlx::query_as(
        "SELECT c.relname::text, p.privilege, false
           FROM pg_class c
           JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = current_schema()
          CROSS JOIN unnest(ARRAY['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE',
                                  'REFERENCES', 'TRIGGER']) AS p(privilege)
          WHERE c.relkind IN ('r', 'p') AND has_table_privilege(c.oid, p.privilege)
         UNION ALL
         SELECT c.relname::text, p.privilege, true
           FROM pg_class c
           JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = current_schema()
          CROSS JOIN unnest(ARRAY['USAGE', 'SELECT', 'UPDATE']) AS p(privilege)
          WHERE c.relkind = 'S' AND has_sequence_privilege(c.oid, p.privilege)
          ORDER BY 1, 2",
    )
    .fetch_all(db)
    .await?;
    let (role, superuser, owner): (String, bool, bool) = sqlx::query_as(
        "SELECT current_user::text, r.rolsuper,
                coalesce(bool_or(pg_has_role(c.relowner, 'USAGE')), false)
           FROM pg_roles r
           LEFT JOIN pg_class c ON c.oid IN (to_regclass('audit_events'), to_regclass('audit_pending'))
          WHERE r.rolname = current_user
          GROUP BY r.rolname, r.rolsuper",
    )
    .fetch_one(db)
    .await?;
    let extra: Vec<Grant> = held
        .into_iter()
        .map(|(object, privilege, sequence)| Grant {
            privilege,
            object,
            kind: if sequence {
                ObjectKind::Sequence
            } else {
                ObjectKind::Table
            },
        })
        .filter(|g| !needed.contains(g))
        .collect();
    let rewrites_audit = if superuser {
        Some("is a superuser")
    } else if owner {
        Some("owns the audit log's tables (and may switch their append-only triggers off)")
    } else if extra
        .iter()
        .any(|g| g.kind == ObjectKind::Table && AUDIT_TABLES.contains(&g.object.as_str()))
    {
        Some("holds more on the audit log's tables than recording events (it could erase pending events or write the chain itself)")
    } else {
        None
    };
    Ok(RolePrivileges {
        role,
        missing: missing
            .into_iter()
            .map(|(object, privilege, kind)| Grant {
                privilege,
                object,
                kind: match kind.as_str() {
                    "sequence" => ObjectKind::Sequence,
                    "function" => ObjectKind::Function,
                    _ => ObjectKind::Table,
                },
            })
            .collect(),
        extra: if superuser || owner {
            Vec::new()
        } else {
            extra
        },
        rewrites_audit,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_documented_grants_are_read_privilege_by_privilege_and_object_by_object() {
        let grants = parse(GRANTS);
        let has = |privilege: &str, object: &str, kind: ObjectKind| {
            grants.contains(&Grant {
                privilege: privilege.into(),
                object: object.into(),
                kind,
            })
        };
        assert!(has("SELECT", "audit_events", ObjectKind::Table));
        assert!(has("INSERT", "audit_pending", ObjectKind::Table));
        assert!(
            has(
                "EXECUTE",
                "audit_chain_pending(integer)",
                ObjectKind::Function
            ),
            "{grants:?}"
        );
        assert!(
            has("UPDATE", "jobs", ObjectKind::Table),
            "from a list of three tables"
        );
        assert!(has("UPDATE", "enrollments", ObjectKind::Table));
        assert!(has("USAGE", "jobs_id_seq", ObjectKind::Sequence));
        assert!(has("SELECT", "_sqlx_migrations", ObjectKind::Table));
        // The serving role records events; it neither writes the chain nor erases them.
        assert!(!has("INSERT", "audit_events", ObjectKind::Table));
        assert!(!has("UPDATE", "audit_events", ObjectKind::Table));
        assert!(!has("DELETE", "audit_pending", ObjectKind::Table));
        assert!(!grants.iter().any(|g| g.object.contains("--")));
        assert_eq!(
            parse("-- GRANT ALL ON x TO y;\nGRANT SELECT, INSERT ON a, b TO r; -- note").len(),
            4
        );
    }
}
