//! From PATH arguments to the scenarios to run. A path inside a workspace (a folder
//! holding `wsbench-workspace.json`, here or above) uses its environments and
//! secrets; a connection file outside one runs with `--var` values only.

use std::path::{Path, PathBuf};

use wsbench_core::collections::migrate::parse_connection;
use wsbench_core::collections::vars::Vars;
use wsbench_core::scenario::scenario_ids;
use wsbench_core::workspace::{Workspace, WORKSPACE_FILE};
use wsbench_core::{SavedConnection, Variable};

/// One scenario to run, with its variables.
pub struct Job {
    pub connection: SavedConnection,
    pub source: String,
    pub vars: Vars,
    pub secrets: Vec<String>,
}

/// Every job the paths name, in order; any bad input is the error (exit 2).
pub fn jobs(paths: &[PathBuf], env: Option<&str>, var_args: &[String]) -> Result<Vec<Job>, String> {
    let extra = var_args
        .iter()
        .map(|kv| match kv.split_once('=') {
            Some((k, v)) if !k.trim().is_empty() => Ok(Variable::new(k.trim(), v)),
            _ => Err(format!("--var {kv:?}: use NAME=VALUE")),
        })
        .collect::<Result<Vec<_>, _>>()?;
    let mut out = Vec::new();
    for p in paths {
        let found = match workspace_root(p) {
            Some(root) => in_workspace(&root, p, env, &extra)?,
            None => outside(p, env, &extra)?,
        };
        if found.is_empty() {
            return Err(format!("{}: no saved connection with a scenario there", p.display()));
        }
        out.extend(found);
    }
    Ok(out)
}

/// The folder holding `wsbench-workspace.json`: `p` itself (a folder) or a parent.
fn workspace_root(p: &Path) -> Option<PathBuf> {
    let abs = std::path::absolute(p).ok()?;
    let start = if abs.is_dir() { abs.as_path() } else { abs.parent()? };
    start
        .ancestors()
        .find(|d| d.join(WORKSPACE_FILE).is_file())
        .map(Path::to_path_buf)
}

fn in_workspace(root: &Path, p: &Path, env: Option<&str>, extra: &[Variable]) -> Result<Vec<Job>, String> {
    let (ws, _) = Workspace::open(root).map_err(|e| format!("{}: {e}", root.display()))?;
    let abs = std::path::absolute(p).map_err(|e| format!("{}: {e}", p.display()))?;
    let rel = abs
        .strip_prefix(root)
        .map_err(|_| format!("{}: not inside {}", p.display(), root.display()))?
        .to_string_lossy()
        .replace('\\', "/");
    // Files under the path that failed to load: the run cannot be trusted.
    let problems: Vec<String> = ws
        .problems()
        .into_iter()
        .filter(|pr| rel.is_empty() || pr.path == rel || pr.path.starts_with(&format!("{rel}/")))
        .filter(|pr| !pr.path.starts_with("environments/") || env.is_some())
        .map(|pr| {
            let at = if pr.line > 0 {
                format!(" (line {}, column {})", pr.line, pr.column)
            } else {
                String::new()
            };
            format!("{}{at}: {}", root.join(&pr.path).display(), pr.message)
        })
        .collect();
    if !problems.is_empty() {
        return Err(problems.join("\nwsbench-cli: "));
    }
    let mut variables = match env {
        Some(name) => {
            ws.environment(name)
                .map_err(|e| format!("--env {name:?}: {e}"))?
                .environment
                .variables
        }
        None => Vec::new(),
    };
    variables.extend(extra.iter().cloned());
    let vars = Vars::new(&variables);
    let secrets = ws.secret_values();
    let ids = if abs.is_dir() {
        scenario_ids(&ws, &rel)
    } else {
        let loaded = ws.connection(&rel).map_err(|e| format!("{}: {e}", p.display()))?;
        if loaded.connection.scenario.is_none() {
            return Err(format!("{}: {:?} has no scenario", p.display(), loaded.connection.name));
        }
        vec![rel.clone()]
    };
    ids.into_iter()
        .map(|id| {
            let c = ws.connection(&id).map_err(|e| format!("{id}: {e}"))?;
            Ok(Job {
                connection: c.connection,
                source: id,
                vars: vars.clone(),
                secrets: secrets.clone(),
            })
        })
        .collect()
}

/// A connection file (or a folder of them) outside any workspace.
fn outside(p: &Path, env: Option<&str>, extra: &[Variable]) -> Result<Vec<Job>, String> {
    if let Some(name) = env {
        return Err(format!(
            "--env {name:?}: {} is not in a wsbench workspace (no {WORKSPACE_FILE} there or above)",
            p.display()
        ));
    }
    let mut files = Vec::new();
    if p.is_dir() {
        json_files(p, &mut files).map_err(|e| format!("{}: {e}", p.display()))?;
    } else {
        files.push(p.to_path_buf());
    }
    let vars = Vars::new(extra);
    let mut jobs = Vec::new();
    for f in files {
        let bytes = std::fs::read(&f).map_err(|e| format!("{}: {e}", f.display()))?;
        let shown = f.display().to_string();
        let parsed = parse_connection(&bytes, &shown).map_err(|e| e.to_string())?;
        if parsed.connection.scenario.is_none() {
            if f.as_path() == p {
                return Err(format!("{shown}: {:?} has no scenario", parsed.connection.name));
            }
            continue;
        }
        jobs.push(Job {
            connection: parsed.connection,
            source: shown,
            vars: vars.clone(),
            secrets: Vec::new(),
        });
    }
    Ok(jobs)
}

fn json_files(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .collect();
    entries.sort();
    for e in entries {
        if e.is_dir() {
            json_files(&e, out)?;
        } else if e.extension().is_some_and(|x| x == "json") && !e.to_string_lossy().ends_with(".secrets.json") {
            out.push(e);
        }
    }
    Ok(())
}
