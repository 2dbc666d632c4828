//! The native menu bar: File, Edit, View, Window and Help (plus the app menu on
//! macOS). Each app item carries the name of a UI command (`ui/js/shortcuts.js`) as
//! its id; choosing it runs that command in the window, exactly as its keyboard
//! shortcut does, through a `wsbench:menu` DOM event (an eval from Rust, so the
//! webview needs no event permission).
//!
//! Shortcuts are Cmd on macOS and Ctrl elsewhere. On macOS the menu owns them (key
//! equivalents); on Linux and Windows the webview keeps handling the keys itself and
//! the menu only runs the command when clicked, so a key never runs a command twice.

use tauri::menu::{AboutMetadataBuilder, Menu, MenuItem, PredefinedMenuItem, Submenu};
use tauri::{AppHandle, Manager, Runtime};

/// The project's documentation (its README).
pub const DOCS_URL: &str = concat!(env!("CARGO_PKG_HOMEPAGE"), "#readme");

/// Menu items that run a UI command: (command, label, shortcut without the modifier).
pub const FILE: &[(&str, &str, &str)] = &[
    ("newTab", "New Tab", "T"),
    ("openFolder", "Open Workspace…", "O"),
    ("save", "Save", "S"),
    ("saveAs", "Save As…", "Shift+S"),
    ("importFile", "Import…", "I"),
    ("exportLog", "Export Log…", "E"),
    ("closeTab", "Close Tab", "W"),
];
pub const VIEW: &[(&str, &str, &str)] = &[
    ("focusFilter", "Filter Connections", "Shift+F"),
    ("focusSearch", "Search Log", "K"),
    ("clearLog", "Clear Log", "L"),
    ("toggleConnect", "Connect / Disconnect", "D"),
    ("ping", "Send Ping", "P"),
    ("reload", "Reload View", "R"),
];
pub const WINDOW: &[(&str, &str, &str)] = &[
    ("nextTab", "Next Tab", "Tab"),
    ("previousTab", "Previous Tab", "Shift+Tab"),
];
const QUIT: &str = "quit";
const DOCS: &str = "docs";
const MINIMIZE: &str = "minimize";
const MAXIMIZE: &str = "maximize";
/// Edit commands run by WebKitGTK itself on Linux (muda has no GTK undo/redo).
#[cfg(target_os = "linux")]
const EDIT: &[(&str, &str)] = &[
    ("edit:Undo", "Undo"),
    ("edit:Redo", "Redo"),
    ("edit:Cut", "Cut"),
    ("edit:Copy", "Copy"),
    ("edit:Paste", "Paste"),
    ("edit:SelectAll", "Select All"),
];

/// "CmdOrCtrl+<key>" on macOS, where the menu owns the shortcut; none elsewhere.
fn accelerator(key: &str) -> Option<String> {
    cfg!(target_os = "macos").then(|| format!("CmdOrCtrl+{key}"))
}

fn items<R: Runtime>(app: &AppHandle<R>, sub: &Submenu<R>, list: &[(&str, &str, &str)]) -> tauri::Result<()> {
    for (id, label, key) in list {
        sub.append(&MenuItem::with_id(app, *id, *label, true, accelerator(key))?)?;
    }
    Ok(())
}

/// Build the menu bar (the builder's `.menu(...)`).
pub fn build<R: Runtime>(app: &AppHandle<R>) -> tauri::Result<Menu<R>> {
    let info = app.package_info();
    let about = AboutMetadataBuilder::new()
        .name(Some(info.name.clone()))
        .version(Some(info.version.to_string()))
        .comments(Some(env!("CARGO_PKG_DESCRIPTION")))
        .license(Some(env!("CARGO_PKG_LICENSE")))
        .website(Some(DOCS_URL))
        .website_label(Some("Documentation"))
        .build();
    let menu = Menu::new(app)?;

    #[cfg(target_os = "macos")]
    {
        let app_menu = Submenu::with_items(
            app,
            &info.name,
            true,
            &[
                &PredefinedMenuItem::about(app, None, Some(about.clone()))?,
                &PredefinedMenuItem::separator(app)?,
                &PredefinedMenuItem::services(app, None)?,
                &PredefinedMenuItem::separator(app)?,
                &PredefinedMenuItem::hide(app, None)?,
                &PredefinedMenuItem::hide_others(app, None)?,
                &PredefinedMenuItem::show_all(app, None)?,
                &PredefinedMenuItem::separator(app)?,
                &MenuItem::with_id(app, QUIT, "Quit wsbench", true, accelerator("Q"))?,
            ],
        )?;
        menu.append(&app_menu)?;
    }

    let file = Submenu::new(app, "File", true)?;
    items(app, &file, FILE)?;
    #[cfg(not(target_os = "macos"))]
    {
        file.append(&PredefinedMenuItem::separator(app)?)?;
        file.append(&MenuItem::with_id(app, QUIT, "Quit", true, None::<&str>)?)?;
    }
    menu.append(&file)?;

    let edit = Submenu::new(app, "Edit", true)?;
    #[cfg(target_os = "linux")]
    for (id, label) in EDIT {
        edit.append(&MenuItem::with_id(app, *id, *label, true, None::<&str>)?)?;
    }
    #[cfg(not(target_os = "linux"))]
    {
        edit.append(&PredefinedMenuItem::undo(app, None)?)?;
        edit.append(&PredefinedMenuItem::redo(app, None)?)?;
        edit.append(&PredefinedMenuItem::separator(app)?)?;
        edit.append(&PredefinedMenuItem::cut(app, None)?)?;
        edit.append(&PredefinedMenuItem::copy(app, None)?)?;
        edit.append(&PredefinedMenuItem::paste(app, None)?)?;
        edit.append(&PredefinedMenuItem::select_all(app, None)?)?;
    }
    menu.append(&edit)?;

    let view = Submenu::new(app, "View", true)?;
    items(app, &view, VIEW)?;
    menu.append(&view)?;

    let window = Submenu::new(app, "Window", true)?;
    window.append(&MenuItem::with_id(app, MINIMIZE, "Minimize", true, accelerator("M"))?)?;
    window.append(&MenuItem::with_id(app, MAXIMIZE, "Zoom", true, None::<&str>)?)?;
    window.append(&PredefinedMenuItem::separator(app)?)?;
    items(app, &window, WINDOW)?;
    menu.append(&window)?;

    let help = Submenu::new(app, "Help", true)?;
    help.append(&MenuItem::with_id(
        app,
        DOCS,
        "wsbench Documentation",
        true,
        None::<&str>,
    )?)?;
    #[cfg(not(target_os = "macos"))]
    help.append(&PredefinedMenuItem::about(app, Some("About wsbench"), Some(about))?)?;
    menu.append(&help)?;
    Ok(menu)
}

/// What choosing an item does (the builder's `.on_menu_event(...)`).
pub fn on_event<R: Runtime>(app: &AppHandle<R>, id: &str) {
    let Some(window) = app.get_webview_window("main") else {
        return;
    };
    match id {
        QUIT => app.exit(0),
        DOCS => open_in_browser(DOCS_URL),
        MINIMIZE => log_err("minimize", window.minimize()),
        MAXIMIZE => {
            let zoomed = window.is_maximized().unwrap_or(false);
            log_err("maximize", if zoomed { window.unmaximize() } else { window.maximize() });
        }
        #[cfg(target_os = "linux")]
        id if id.starts_with("edit:") => {
            let command = id.trim_start_matches("edit:").to_string();
            log_err(
                "edit",
                window.with_webview(move |w| {
                    use webkit2gtk::WebViewExt;
                    w.inner().execute_editing_command(&command);
                }),
            );
        }
        id if is_ui_command(id) => log_err("menu command", window.eval(dispatch_script(id))),
        _ => {}
    }
}

fn is_ui_command(id: &str) -> bool {
    FILE.iter().chain(VIEW).chain(WINDOW).any(|(c, _, _)| *c == id)
}

/// The script that hands a command to the UI. `id` is one of our own constants,
/// never user input; it is JSON-quoted all the same.
pub fn dispatch_script(id: &str) -> String {
    let name = serde_json::to_string(id).unwrap_or_else(|_| "\"\"".into());
    format!("window.dispatchEvent(new CustomEvent('wsbench:menu', {{ detail: {{ name: {name} }} }}));")
}

fn log_err(what: &str, r: tauri::Result<()>) {
    if let Err(e) = r {
        tracing::warn!(error = %e, "menu: {what} failed");
    }
}

/// Open a web page in the default browser.
fn open_in_browser(url: &str) {
    #[cfg(target_os = "linux")]
    let r = std::process::Command::new("xdg-open").arg(url).spawn();
    #[cfg(target_os = "macos")]
    let r = std::process::Command::new("open").arg(url).spawn();
    #[cfg(target_os = "windows")]
    let r = std::process::Command::new("rundll32")
        .args(["url.dll,FileProtocolHandler", url])
        .spawn();
    #[cfg(not(any(target_os = "linux", target_os = "macos", target_os = "windows")))]
    let r: std::io::Result<std::process::Child> = Err(std::io::ErrorKind::Unsupported.into());
    if let Err(e) = r {
        tracing::warn!(error = %e, url, "cannot open the browser");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_menu_command_is_a_distinct_ui_command_with_a_shortcut() {
        let all: Vec<_> = FILE.iter().chain(VIEW).chain(WINDOW).collect();
        let mut ids: Vec<_> = all.iter().map(|(id, _, _)| *id).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), all.len(), "two items run the same command");
        for want in ["newTab", "openFolder", "save", "saveAs", "importFile", "exportLog"] {
            assert!(ids.contains(&want), "File lacks {want}");
        }
        assert!(all.iter().all(|(_, label, key)| !label.is_empty() && !key.is_empty()));
    }

    #[test]
    fn only_macos_menus_own_the_shortcuts() {
        // On macOS the menu owns the shortcut as Cmd; elsewhere the webview keeps the key.
        assert_eq!(
            accelerator("Shift+S").as_deref(),
            cfg!(target_os = "macos").then_some("CmdOrCtrl+Shift+S")
        );
    }

    #[test]
    fn the_dispatch_script_names_the_command_as_a_json_string() {
        assert_eq!(
            dispatch_script("newTab"),
            "window.dispatchEvent(new CustomEvent('wsbench:menu', { detail: { name: \"newTab\" } }));"
        );
        assert!(dispatch_script("a'b\"c").contains(r#""a'b\"c""#));
    }

    #[test]
    fn the_docs_link_is_the_projects_readme() {
        assert!(
            DOCS_URL.starts_with("https://") && DOCS_URL.ends_with("#readme"),
            "{DOCS_URL}"
        );
    }
}
