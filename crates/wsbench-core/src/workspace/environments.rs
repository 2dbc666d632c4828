//! Environments in the workspace: named sets of variables, each in its own file,
//! with secret values in a git-ignored file beside it.
//!
//! An environment is two files in `environments/`: `<slug>.json` (the [`Environment`],
//! with `""` as the value of every secret variable) and `<slug>.secrets.json` holding
//! the secret values (`{"version": 1, "values": {"token": "..."}}`), which the
//! workspace's `.gitignore` keeps out of git. The store merges them on load. A missing
//! or unreadable secrets file is a [`FileProblem`]; the environment still loads, with
//! empty secret values.

use std::collections::BTreeMap;
use std::fs;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::paths::{file_bytes, revision};
use super::problems::FileProblem;
use super::trash::{Deleted, Restored, Trashed};
use super::{ItemKind, Workspace, ENVIRONMENTS_DIR, SECRETS_SUFFIX};
use crate::collections::vars::{check_variable_name, Vars};
use crate::collections::{Environment, ENVIRONMENT_FILE_VERSION};
use crate::error::{Error, Result};
use crate::fs::write_bytes_atomic;
use crate::parse::{json_error, key_position, parse_error, strip_bom};

/// An environment with its secret values, and the revision to save it against.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LoadedEnvironment {
    pub environment: Environment,
    /// Hash of the environment file and its secrets file.
    pub revision: String,
}

/// The result of a write of an environment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SavedEnvironment {
    pub name: String,
    pub revision: String,
}

/// `<slug>.secrets.json`. Values are keyed by variable name, sorted.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SecretsFile {
    pub version: u32,
    #[serde(default)]
    pub values: BTreeMap<String, String>,
}

#[derive(Debug, Clone)]
pub(super) struct EnvEntry {
    /// With the secret values merged in.
    pub(super) env: Environment,
    pub(super) revision: String,
}

fn env_rel(slug: &str) -> String {
    format!("{ENVIRONMENTS_DIR}/{slug}.json")
}

fn secrets_rel(slug: &str) -> String {
    format!("{ENVIRONMENTS_DIR}/{slug}{SECRETS_SUFFIX}")
}

/// The revision of the pair of files (the secrets file may be absent).
fn pair_revision(env: &[u8], secrets: Option<&[u8]>) -> String {
    let mut all = env.to_vec();
    match secrets {
        Some(s) => {
            all.extend_from_slice(b"\0secrets\0");
            all.extend_from_slice(s);
        }
        None => all.extend_from_slice(b"\0no secrets\0"),
    }
    revision(&all)
}

/// Check the `version` of an environment or secrets file before reading its shape.
fn check_version(text: &[u8], path: &str) -> Result<()> {
    let value: Value = serde_json::from_slice(text).map_err(|e| json_error(path, &e))?;
    let Value::Object(obj) = &value else {
        return Err(parse_error(path, 1, 1, "expected a JSON object"));
    };
    let version = match obj.get("version") {
        None => return Ok(()),
        Some(v) => v.as_u64(),
    };
    let (line, column) = key_position(text, "version");
    match version {
        Some(n) if n == u64::from(ENVIRONMENT_FILE_VERSION) => Ok(()),
        Some(n) if n > u64::from(ENVIRONMENT_FILE_VERSION) => Err(parse_error(
            path,
            line,
            column,
            format!(
                "written by a newer wsbench (format version {n}; this version reads up to {ENVIRONMENT_FILE_VERSION}); update wsbench to open it"
            ),
        )),
        Some(n) => Err(parse_error(path, line, column, format!("unknown format version {n}"))),
        None => Err(parse_error(path, line, column, "\"version\" must be a number")),
    }
}

/// Parse an environment file.
pub fn parse_environment(bytes: &[u8], path: &str) -> Result<Environment> {
    let text = strip_bom(bytes);
    check_version(text, path)?;
    let mut env: Environment = serde_json::from_slice(text).map_err(|e| json_error(path, &e))?;
    env.version = ENVIRONMENT_FILE_VERSION;
    Ok(env)
}

/// Parse a secrets file.
pub fn parse_secrets(bytes: &[u8], path: &str) -> Result<SecretsFile> {
    let text = strip_bom(bytes);
    check_version(text, path)?;
    serde_json::from_slice(text).map_err(|e| json_error(path, &e))
}

/// The two files of an environment: the public one (secret values blanked) and, when
/// it has secret variables, the secrets file.
fn split(env: &Environment) -> (Environment, Option<SecretsFile>) {
    let mut public = env.clone();
    public.version = ENVIRONMENT_FILE_VERSION;
    let mut values = BTreeMap::new();
    for v in &mut public.variables {
        if v.secret {
            values.insert(v.name.clone(), std::mem::take(&mut v.value));
        }
    }
    let has_secrets = env.variables.iter().any(|v| v.secret);
    let secrets = has_secrets.then_some(SecretsFile {
        version: ENVIRONMENT_FILE_VERSION,
        values,
    });
    (public, secrets)
}

impl Workspace {
    /// Every environment that loaded, secret values merged in, sorted by name.
    pub fn environments(&self) -> Vec<Environment> {
        let mut v: Vec<Environment> = self.environments.values().map(|e| e.env.clone()).collect();
        v.sort_by(|a, b| {
            a.name
                .to_lowercase()
                .cmp(&b.name.to_lowercase())
                .then(a.name.cmp(&b.name))
        });
        v
    }

    /// One environment by name, with the revision to save it against.
    pub fn environment(&self, name: &str) -> Result<LoadedEnvironment> {
        let slug = self.env_slug(name)?;
        let e = &self.environments[&slug];
        Ok(LoadedEnvironment {
            environment: e.env.clone(),
            revision: e.revision.clone(),
        })
    }

    /// Save an environment, identified by its name (a new name makes a new file; use
    /// [`rename_environment`](Self::rename_environment) to rename). Secret values go only
    /// to the secrets file. `base_revision`/`force` work as for
    /// [`save_connection`](Self::save_connection): `None` means a new environment.
    pub fn save_environment(
        &mut self,
        env: &Environment,
        base_revision: Option<&str>,
        force: bool,
    ) -> Result<SavedEnvironment> {
        let name = env.name.trim();
        if name.is_empty() {
            return Err(Error::InvalidName("an environment needs a name".into()));
        }
        let slug = match self.env_slug(name) {
            Ok(s) => s,
            Err(_) => self.unique_env_slug(&super::slug(name, "environment"), None),
        };
        let disk = self.read_optional(&env_rel(&slug))?;
        let disk_secrets = self.read_optional(&secrets_rel(&slug))?;
        if !force {
            let unchanged = match (base_revision, &disk) {
                (Some(base), Some(bytes)) => pair_revision(bytes, disk_secrets.as_deref()) == base,
                (None, None) => true,
                _ => false,
            };
            if !unchanged {
                return Err(Error::Conflict { path: env_rel(&slug) });
            }
        }
        let mut env = env.clone();
        env.name = name.to_owned();
        env.version = ENVIRONMENT_FILE_VERSION;
        let revision = self.write_environment(&slug, &env, disk_secrets.as_deref())?;
        Ok(SavedEnvironment {
            name: env.name,
            revision,
        })
    }

    /// Rename an environment (its name and its files). Refused with [`Error::Conflict`]
    /// when its files changed on disk since the store read them.
    pub fn rename_environment(&mut self, name: &str, new_name: &str) -> Result<SavedEnvironment> {
        let slug = self.env_slug(name)?;
        let new_name = new_name.trim();
        if new_name.is_empty() {
            return Err(Error::InvalidName("an environment needs a name".into()));
        }
        if new_name != name && self.env_slug(new_name).is_ok() {
            return Err(Error::AlreadyExists(format!(
                "there is already an environment named {new_name:?}"
            )));
        }
        let entry = self.environments[&slug].clone();
        let disk = self.read_optional(&env_rel(&slug))?;
        let disk_secrets = self.read_optional(&secrets_rel(&slug))?;
        match &disk {
            Some(bytes) if pair_revision(bytes, disk_secrets.as_deref()) == entry.revision => {}
            _ => return Err(Error::Conflict { path: env_rel(&slug) }),
        }
        let mut env = entry.env;
        env.name = new_name.to_owned();
        let wanted = super::slug(new_name, "environment");
        if wanted == slug {
            let revision = self.write_environment(&slug, &env, disk_secrets.as_deref())?;
            return Ok(SavedEnvironment {
                name: env.name,
                revision,
            });
        }
        let new_slug = self.unique_env_slug(&wanted, Some(&slug));
        let revision = self.write_environment(&new_slug, &env, None)?;
        if let Err(e) = fs::remove_file(self.abs(&env_rel(&slug))) {
            for rel in [env_rel(&new_slug), secrets_rel(&new_slug)] {
                let _ = fs::remove_file(self.abs(&rel));
                self.files.remove(&rel);
            }
            self.environments.remove(&new_slug);
            return Err(Error::io(self.abs(&env_rel(&slug)), &e));
        }
        if disk_secrets.is_some() {
            if let Err(e) = fs::remove_file(self.abs(&secrets_rel(&slug))) {
                tracing::warn!("could not remove the old secrets file of {name:?}: {e}");
            }
        }
        self.forget_environment(&slug);
        Ok(SavedEnvironment {
            name: env.name,
            revision,
        })
    }

    /// Save an environment edited in an editor: `original` is its name before the
    /// edit (None: a new one, refused with [`Error::AlreadyExists`] when the name is
    /// taken) and `base_revision` the revision the editor loaded (an outside change
    /// since is [`Error::Conflict`], never overwritten). A changed name renames it
    /// first, and `on_rename(old, new)` is called as soon as that is done (even if
    /// the save then fails). Refused while its secrets file cannot be read, so blank
    /// values never replace the real ones, and with [`Error::InvalidName`] for an
    /// empty name or a variable name `{{name}}` could not use
    /// ([`check_variable_name`](crate::collections::vars::check_variable_name)).
    pub fn edit_environment(
        &mut self,
        env: &Environment,
        original: Option<&str>,
        base_revision: Option<&str>,
        on_rename: impl FnOnce(&str, &str),
    ) -> Result<SavedEnvironment> {
        let new_name = env.name.trim();
        if new_name.is_empty() {
            return Err(Error::InvalidName("an environment needs a name".into()));
        }
        for v in &env.variables {
            check_variable_name(&v.name)?;
        }
        let Some(old) = original else {
            if self.environment(new_name).is_ok() {
                return Err(Error::AlreadyExists(format!(
                    "there is already an environment named {new_name:?}"
                )));
            }
            return self.save_environment(env, None, false);
        };
        let srel = secrets_rel(&super::slug(old, "environment"));
        if let Some(p) = self.problems.get(&srel) {
            return Err(Error::File {
                path: p.path.clone(),
                reason: format!(
                    "it cannot be read ({}); fix or remove it before saving this environment",
                    p.message
                ),
            });
        }
        let current = self.environment(old)?.revision;
        if base_revision.is_some_and(|b| b != current) {
            return Err(Error::Conflict {
                path: format!("environment {old:?}"),
            });
        }
        if old != new_name {
            self.rename_environment(old, &env.name)?;
            on_rename(old, new_name);
        }
        let base = self.environment(new_name)?.revision;
        self.save_environment(env, Some(&base), false)
    }

    /// Every environment with the revision to save it against, sorted by name.
    pub fn environments_with_revisions(&self) -> Vec<LoadedEnvironment> {
        self.environments()
            .into_iter()
            .filter_map(|e| {
                let revision = self.environment(&e.name).ok()?.revision;
                Some(LoadedEnvironment {
                    environment: e,
                    revision,
                })
            })
            .collect()
    }

    /// The variables of the environment `active` (none when it is not set or gone),
    /// for `{{name}}` in configs and messages.
    pub fn vars(&self, active: Option<&str>) -> Vars {
        let Some(name) = active else {
            return Vars::default();
        };
        self.environments
            .values()
            .find(|e| e.env.name == name)
            .map(|e| Vars::new(&e.env.variables))
            .unwrap_or_default()
    }

    /// Delete an environment's files. Undo with [`undo_delete`](Self::undo_delete).
    pub fn delete_environment(&mut self, name: &str) -> Result<Deleted> {
        let slug = self.env_slug(name)?;
        let env_path = self.abs(&env_rel(&slug));
        let env_bytes = fs::read(&env_path).map_err(|e| Error::io(&env_path, &e))?;
        let secrets = self.read_optional(&secrets_rel(&slug))?;
        fs::remove_file(&env_path).map_err(|e| Error::io(&env_path, &e))?;
        let mut files = vec![(env_rel(&slug), env_bytes)];
        if let Some(bytes) = secrets {
            if let Err(e) = fs::remove_file(self.abs(&secrets_rel(&slug))) {
                tracing::warn!("could not remove the secrets file of {name:?}: {e}");
            }
            files.push((secrets_rel(&slug), bytes));
        }
        self.forget_environment(&slug);
        Ok(self.put_in_trash(Trashed {
            item: ItemKind::Environment,
            path: slug,
            files,
            dirs: Vec::new(),
        }))
    }

    /// Undo of [`delete_environment`](Self::delete_environment): the same bytes, under
    /// a new file name and name if those were taken since.
    pub(super) fn restore_environment(&mut self, t: &Trashed) -> Result<Restored> {
        let Some((_, env_bytes)) = t.files.iter().find(|(rel, _)| !rel.ends_with(SECRETS_SUFFIX)) else {
            return Err(Error::NothingToUndo("the deletion holds no file".into()));
        };
        let secrets = t.files.iter().find(|(rel, _)| rel.ends_with(SECRETS_SUFFIX));
        let slug = self.unique_env_slug(&t.path, None);
        let mut env_bytes = env_bytes.clone();
        if let Ok(mut env) = parse_environment(&env_bytes, &env_rel(&slug)) {
            if self.env_slug(&env.name).is_ok() {
                let base = env.name.clone();
                let mut n = 2;
                while self.env_slug(&format!("{base} {n}")).is_ok() {
                    n += 1;
                }
                env.name = format!("{base} {n}");
                env_bytes = file_bytes(&env)?;
            }
        }
        if let Some((_, bytes)) = secrets {
            write_bytes_atomic(&self.abs(&secrets_rel(&slug)), bytes)?;
        }
        if let Err(e) = write_bytes_atomic(&self.abs(&env_rel(&slug)), &env_bytes) {
            let _ = fs::remove_file(self.abs(&secrets_rel(&slug)));
            return Err(e);
        }
        self.reload_environment(&slug);
        let id = self
            .environments
            .get(&slug)
            .map(|e| e.env.name.clone())
            .unwrap_or_else(|| slug.clone());
        Ok(Restored {
            item: ItemKind::Environment,
            id,
        })
    }

    /// Write both files of `env` under `slug` and cache it; returns the revision.
    /// The secrets file is written first; if the environment file then fails, the
    /// previous secrets bytes (`old_secrets`) are put back.
    pub(super) fn write_environment(
        &mut self,
        slug: &str,
        env: &Environment,
        old_secrets: Option<&[u8]>,
    ) -> Result<String> {
        let (public, secrets) = split(env);
        let env_bytes = file_bytes(&public)?;
        let secrets_bytes = secrets.as_ref().map(file_bytes).transpose()?;
        let (erel, srel) = (env_rel(slug), secrets_rel(slug));
        if let Some(bytes) = &secrets_bytes {
            self.write_file(&srel, bytes)?;
        }
        if let Err(e) = self.write_file(&erel, &env_bytes) {
            if secrets_bytes.is_some() {
                match old_secrets {
                    Some(old) => {
                        if write_bytes_atomic(&self.abs(&srel), old).is_ok() {
                            self.record(&srel, old);
                        }
                    }
                    None => {
                        let _ = fs::remove_file(self.abs(&srel));
                        self.files.remove(&srel);
                    }
                }
            }
            return Err(e);
        }
        if secrets_bytes.is_none() && old_secrets.is_some() {
            match fs::remove_file(self.abs(&srel)) {
                Ok(()) => {
                    self.files.remove(&srel);
                }
                Err(e) => tracing::warn!("could not remove the unused secrets file {srel}: {e}"),
            }
        }
        self.problems.remove(&erel);
        self.problems.remove(&srel);
        let revision = pair_revision(&env_bytes, secrets_bytes.as_deref());
        self.environments.insert(
            slug.to_owned(),
            EnvEntry {
                env: env.clone(),
                revision: revision.clone(),
            },
        );
        Ok(revision)
    }

    /// Re-read the files of the environment `slug` into the cache (or the problems).
    pub(super) fn reload_environment(&mut self, slug: &str) {
        let (erel, srel) = (env_rel(slug), secrets_rel(slug));
        self.forget_environment(slug);
        let secrets = match crate::fs::read_capped(&self.abs(&srel), crate::fs::MAX_STORE_FILE_BYTES) {
            Ok(bytes) => {
                self.record(&srel, &bytes);
                Some(bytes)
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => {
                self.record_unreadable(&srel, &e);
                None
            }
        };
        let env_bytes = match crate::fs::read_capped(&self.abs(&erel), crate::fs::MAX_STORE_FILE_BYTES) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return,
            Err(e) => {
                self.record_unreadable(&erel, &e);
                return;
            }
        };
        self.record(&erel, &env_bytes);
        let mut env = match parse_environment(&env_bytes, &erel) {
            Ok(env) => env,
            Err(e) => {
                self.problems.insert(erel.clone(), FileProblem::from_error(&erel, &e));
                return;
            }
        };
        if env.name.trim().is_empty() {
            env.name = slug.to_owned();
        }
        if let Some(other) = self
            .environments
            .iter()
            .find(|(_, e)| e.env.name == env.name)
            .map(|(s, _)| s)
        {
            let p = FileProblem::new(
                &erel,
                format!(
                    "the environment name {:?} is already used by {}; rename one of them",
                    env.name,
                    env_rel(other)
                ),
            );
            self.problems.insert(erel, p);
            return;
        }
        let needs_secrets = env.variables.iter().any(|v| v.secret && v.value.is_empty());
        match &secrets {
            Some(bytes) => match parse_secrets(bytes, &srel) {
                Ok(file) => {
                    for v in env.variables.iter_mut().filter(|v| v.secret) {
                        if let Some(value) = file.values.get(&v.name) {
                            v.value = value.clone();
                        }
                    }
                }
                Err(e) => {
                    self.problems.insert(srel.clone(), FileProblem::from_error(&srel, &e));
                }
            },
            None if needs_secrets && !self.problems.contains_key(&srel) => {
                let p = FileProblem::new(
                    &srel,
                    format!(
                        "the secret values of environment {:?} are not on this machine (the file is missing); enter them again",
                        env.name
                    ),
                );
                self.problems.insert(srel.clone(), p);
            }
            None => {}
        }
        let revision = pair_revision(&env_bytes, secrets.as_deref());
        self.environments.insert(slug.to_owned(), EnvEntry { env, revision });
    }

    pub(super) fn env_slug(&self, name: &str) -> Result<String> {
        self.environments
            .iter()
            .find(|(_, e)| e.env.name == name)
            .map(|(s, _)| s.clone())
            .ok_or_else(|| Error::File {
                path: format!("{ENVIRONMENTS_DIR}/"),
                reason: format!("there is no environment named {name:?}"),
            })
    }

    /// A slug whose two files are both free (`except` counts as free).
    pub(super) fn unique_env_slug(&self, base: &str, except: Option<&str>) -> String {
        let mut n = 1;
        loop {
            let candidate = if n == 1 { base.to_owned() } else { format!("{base}-{n}") };
            if Some(candidate.as_str()) == except {
                return candidate;
            }
            let taken = self.environments.contains_key(&candidate)
                || [env_rel(&candidate), secrets_rel(&candidate)]
                    .iter()
                    .any(|rel| self.files.contains_key(rel) || fs::symlink_metadata(self.abs(rel)).is_ok());
            if !taken {
                return candidate;
            }
            n += 1;
        }
    }

    pub(super) fn forget_environment(&mut self, slug: &str) {
        self.environments.remove(slug);
        for rel in [env_rel(slug), secrets_rel(slug)] {
            self.files.remove(&rel);
            self.problems.remove(&rel);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_public_file_never_holds_a_secret_value() {
        let env = Environment {
            name: "prod".into(),
            variables: vec![
                crate::collections::Variable::secret("token", "s3cr3t"),
                crate::collections::Variable::new("host", "h"),
            ],
            ..Environment::default()
        };
        let (public, secrets) = split(&env);
        assert_eq!(public.variables[0].value, "");
        assert_eq!(public.variables[1].value, "h");
        assert_eq!(secrets.unwrap().values["token"], "s3cr3t");
    }
}
