//! What the service's database role may do, against what it needs. The need is the grant list
//! an operator applies (`config/service-role-grants.sql`, built into the binary), so the
//! document and the check cannot drift apart.

use sqlx::PgPool;

/// The grants the service's role needs, as documented for operators.
const GRANTS: &str = include_str!("../../config/service-role-grants.sql");

/// One privilege on one table or sequence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    pub privilege: String,
    pub object: String,
    pub sequence: bool,
}

impl std::fmt::Display for Grant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = if self.sequence { "sequence " } else { "" };
        write!(f, "{} on {kind}{}", self.privilege, self.object)
    }
}

/// Each privilege of each `GRANT privileges ON [SEQUENCE] objects TO role;` in `sql`.
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
        let sequence = words[on + 1].eq_ignore_ascii_case("SEQUENCE");
        let objects = words[on + 1 + usize::from(sequence)..to].join(" ");
        for privilege in words[1..on].join(" ").split(',') {
            for object in objects.split(',') {
                grants.push(Grant {
                    privilege: privilege.trim().to_uppercase(),
                    object: object.trim().to_owned(),
                    sequence,
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
    /// How the role could rewrite the audit log, if it can: the append-only triggers stop an
    /// UPDATE or DELETE, but an owner or superuser may switch them off.
    pub rewrites_audit: Option<&'static str>,
}

/// Reads the connected role's privileges (two queries; changes nothing).
pub async fn privileges(db: &PgPool) -> Result<RolePrivileges, sqlx::Error> {
    let needed = parse(GRANTS);
    let missing: Vec<(String, String, bool)> = sqlx::query_as(
        "SELECT g.object, g.privilege, g.sequence
           FROM unnest($1::text[], $2::text[], $3::bool[]) AS g(object, privilege, sequence)
          WHERE CASE WHEN to_regclass(g.object) IS NULL THEN true
                     WHEN g.sequence THEN NOT has_sequence_privilege(g.object, g.privilege)
                     ELSE NOT has_table_privilege(g.object, g.privilege) END",
    )
    .bind(needed.iter().map(|g| g.object.clone()).collect::<Vec<_>>())
    .bind(
        needed
            .iter()
            .map(|g| g.privilege.clone())
            .collect::<Vec<_>>(),
    )
    .bind(needed.iter().map(|g| g.sequence).collect::<Vec<_>>())
    .fetch_all(db)
    .await?;
    let (role, superuser, owner, alters): (String, bool, bool, bool) = sqlx::query_as(
        "SELECT current_user::text, r.rolsuper,
                coalesce(pg_has_role(c.relowner, 'USAGE'), false),
                coalesce(has_table_privilege(c.oid, 'UPDATE')
                      OR has_table_privilege(c.oid, 'DELETE')
                      OR has_table_privilege(c.oid, 'TRUNCATE'), false)
           FROM pg_roles r LEFT JOIN pg_class c ON c.oid = to_regclass('audit_events')
          WHERE r.rolname = current_user",
    )
    .fetch_one(db)
    .await?;
    let rewrites_audit = if superuser {
        Some("is a superuser")
    } else if owner {
        Some("owns audit_events (and may switch its append-only triggers off)")
    } else if alters {
        Some("holds UPDATE, DELETE or TRUNCATE on audit_events")
    } else {
        None
    };
    Ok(RolePrivileges {
        role,
        missing: missing
            .into_iter()
            .map(|(object, privilege, sequence)| Grant {
                privilege,
                object,
                sequence,
            })
            .collect(),
        rewrites_audit,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_documented_grants_are_read_privilege_by_privilege_and_object_by_object() {
        let grants = parse(GRANTS);
        let has = |privilege: &str, object: &str, sequence: bool| {
            grants.contains(&Grant {
                privilege: privilege.into(),
                object: object.into(),
                sequence,
            })
        };
        assert!(has("INSERT", "audit_events", false));
        assert!(has("UPDATE", "jobs", false), "from a list of three tables");
        assert!(has("UPDATE", "enrollments", false));
        assert!(has("USAGE", "jobs_id_seq", true));
        assert!(has("SELECT", "_sqlx_migrations", false));
        assert!(!has("UPDATE", "audit_events", false));
        assert!(!grants.iter().any(|g| g.object.contains("--")));
        assert_eq!(
            parse("-- GRANT ALL ON x TO y;\nGRANT SELECT, INSERT ON a, b TO r; -- note").len(),
            4
        );
    }
}
