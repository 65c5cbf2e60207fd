//! The npm registry read protocol: which resource a request path names.
//!
//! * `/name`, `/@scope%2fname`, `/@scope/name`: the packument;
//! * `/name/-/name-1.0.0.tgz`, `/@scope/name/-/name-1.0.0.tgz` (or `@scope%2fname`): a tarball;
//! * `/-/bulwark/health`, `/-/bulwark/metrics`: the gate's own endpoints; `/-/ping`.
//!
//! Names are validated (npm's character set, at most one scope, no `.`/`..` segments), so a
//! name is safe to use in a file name or an upstream URL.

/// The longest package name npm accepts.
const MAX_NAME_LEN: usize = 214;

/// What a request path names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// A packument.
    Packument {
        /// Package name, `@scope/name` for scoped packages.
        name: String,
    },
    /// A tarball of `name`, by file name.
    Tarball {
        /// Package name.
        name: String,
        /// `name-1.0.0.tgz`.
        file: String,
    },
    /// `/-/bulwark/health`.
    Health,
    /// `/-/bulwark/metrics`.
    Metrics,
    /// `/-/ping` (yarn and npm's `ping`).
    Ping,
    /// Anything else.
    NotFound,
}

/// Routes a request path (with or without a query string).
#[must_use]
pub fn route(path: &str) -> Route {
    let path = path.split(['?', '#']).next().unwrap_or_default();
    let Some(path) = path.strip_prefix('/') else {
        return Route::NotFound;
    };
    match path {
        "-/bulwark/health" => return Route::Health,
        "-/bulwark/metrics" => return Route::Metrics,
        "-/ping" => return Route::Ping,
        _ => {}
    }
    if path.starts_with("-/") {
        return Route::NotFound;
    }
    let decoded = decode_scope_separator(path);
    let segments: Vec<&str> = decoded.split('/').collect();
    let (name, rest): (String, &[&str]) = if decoded.starts_with('@') {
        if segments.len() < 2 {
            return Route::NotFound;
        }
        (format!("{}/{}", segments[0], segments[1]), &segments[2..])
    } else {
        (segments[0].to_owned(), &segments[1..])
    };
    if !is_valid_name(&name) {
        return Route::NotFound;
    }
    match rest {
        [] | [""] => Route::Packument { name },
        ["-", file] if is_valid_tarball_file(file) => Route::Tarball {
            name,
            file: (*file).to_owned(),
        },
        _ => Route::NotFound,
    }
}

/// `@scope%2fname` and `@scope%2Fname` as `@scope/name`; nothing else is decoded.
fn decode_scope_separator(path: &str) -> String {
    if !path.starts_with('@') {
        return path.to_owned();
    }
    match path.find(['%', '/']) {
        Some(at) if path[at..].len() >= 3 && path[at..at + 3].eq_ignore_ascii_case("%2f") => {
            format!("{}/{}", &path[..at], &path[at + 3..])
        }
        _ => path.to_owned(),
    }
}

/// Whether `name` is an npm package name that is safe in paths and URLs.
#[must_use]
pub fn is_valid_name(name: &str) -> bool {
    if name.is_empty() || name.len() > MAX_NAME_LEN {
        return false;
    }
    let part_ok = |part: &str| {
        !part.is_empty()
            && !part.starts_with('.')
            && !part.starts_with('_')
            && part
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
    };
    match name.strip_prefix('@') {
        Some(scoped) => scoped
            .split_once('/')
            .is_some_and(|(scope, bare)| part_ok(scope) && part_ok(bare)),
        None => part_ok(name),
    }
}

fn is_valid_tarball_file(file: &str) -> bool {
    file.len() <= MAX_NAME_LEN + 64
        && file.ends_with(".tgz")
        && !file.starts_with('.')
        && file
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'+'))
}

/// The file name at the end of a tarball URL (`…/-/ms-2.1.3.tgz` gives `ms-2.1.3.tgz`).
#[must_use]
pub fn tarball_file(url: &str) -> Option<&str> {
    let path = url.split(['?', '#']).next()?;
    let file = path.rsplit('/').next()?;
    is_valid_tarball_file(file).then_some(file)
}

/// The gate's URL of a tarball: `{origin}/{name}/-/{file}`.
#[must_use]
pub fn gate_tarball_url(origin: &str, name: &str, file: &str) -> String {
    format!("{origin}/{name}/-/{file}")
}

/// The path of a packument on a registry: scoped names with the `/` encoded, as npm does.
#[must_use]
pub fn packument_path(name: &str) -> String {
    name.replacen('/', "%2f", 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn packument(name: &str) -> Route {
        Route::Packument { name: name.into() }
    }

    fn tarball(name: &str, file: &str) -> Route {
        Route::Tarball {
            name: name.into(),
            file: file.into(),
        }
    }

    #[test]
    fn routes_packuments() {
        assert_eq!(route("/ms"), packument("ms"));
        assert_eq!(route("/ms?write=true"), packument("ms"));
        assert_eq!(route("/@types%2fms"), packument("@types/ms"));
        assert_eq!(route("/@types%2Fms"), packument("@types/ms"));
        assert_eq!(route("/@types/ms"), packument("@types/ms"));
        assert_eq!(route("/JSONStream"), packument("JSONStream"));
    }

    #[test]
    fn routes_tarballs() {
        assert_eq!(route("/ms/-/ms-2.1.3.tgz"), tarball("ms", "ms-2.1.3.tgz"));
        assert_eq!(
            route("/@types/ms/-/ms-0.7.34.tgz"),
            tarball("@types/ms", "ms-0.7.34.tgz")
        );
        assert_eq!(
            route("/@types%2fms/-/ms-0.7.34.tgz"),
            tarball("@types/ms", "ms-0.7.34.tgz")
        );
        assert_eq!(
            route("/a/-/a-1.0.0-beta+build.tgz"),
            tarball("a", "a-1.0.0-beta+build.tgz")
        );
    }

    #[test]
    fn internal_endpoints_and_refusals() {
        assert_eq!(route("/-/bulwark/health"), Route::Health);
        assert_eq!(route("/-/bulwark/metrics"), Route::Metrics);
        assert_eq!(route("/-/ping?write=true"), Route::Ping);
        for bad in [
            "",
            "/",
            "/-/npm/v1/security/audits",
            "/..",
            "/../etc/passwd",
            "/@scope",
            "/@scope/",
            "/@/x",
            "/ms/-/../../x.tgz",
            "/ms/-/ms.tar",
            "/ms/extra",
            "/.hidden",
            "/_private",
            "/a%2fb",
            "/@s/p/q/-/x.tgz",
            "/ms/-/.tgz",
        ] {
            assert_eq!(route(bad), Route::NotFound, "{bad}");
        }
        assert!(!is_valid_name(&"a".repeat(215)));
    }

    #[test]
    fn tarball_urls() {
        assert_eq!(
            tarball_file("https://registry.npmjs.org/ms/-/ms-2.1.3.tgz"),
            Some("ms-2.1.3.tgz")
        );
        assert_eq!(tarball_file("https://r/x/-/../evil"), None);
        assert_eq!(
            gate_tarball_url("http://127.0.0.1:4873", "@types/ms", "ms-0.7.34.tgz"),
            "http://127.0.0.1:4873/@types/ms/-/ms-0.7.34.tgz"
        );
        assert_eq!(packument_path("@types/ms"), "@types%2fms");
    }
}
