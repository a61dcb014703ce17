//! Reading for the `r8-rules` ship check: which classes the uniffi-generated Kotlin needs kept
//! because JNA reaches them by reflection, and which of them the AAR's consumer rules
//! (`android/citizen-sdk/consumer-rules.pro`) keep.
//!
//! JNA reflects on:
//! - `Structure` subclasses (and their `ByValue` / `ByReference` subclasses): it creates them
//!   through their no-argument constructor and reads and writes their fields by the names of
//!   `@Structure.FieldOrder`;
//! - `com.sun.jna.Callback` interfaces and the objects implementing them: it finds the one
//!   method of the interface by reflection and calls it on the object;
//! - the objects passed to `Native.register` (direct mapping): it binds their `external`
//!   methods to native symbols by their names.
//!
//! R8 may neither remove nor rename any of them, nor their members: each needs a `-keep` rule
//! with `{ *; }` (or a `-keep` rule for the class plus a `-keepclassmembers` rule with
//! `{ *; }`). JNA's own classes must be kept too: its native part looks them up by name.
//!
//! Read as text: the generated code's own layout (one declaration per line) and the simple
//! rule forms the project uses (`-keep[classmembers] class PATTERN [extends|implements
//! PATTERN] { ... }`). A rule with modifiers (`-keep,allowobfuscation ...`) does not count.

/// A class JNA needs, by its binary name (`org.citizen.sdk.RustBuffer$ByValue`), with why.
#[derive(Debug, Clone, PartialEq)]
pub struct Needed {
    pub name: String,
    /// The binary names of its supertypes, transitively (for `extends`/`implements` rules).
    pub supertypes: Vec<String>,
    pub why: &'static str,
}

/// JNA's classes that its native code or its own reflection finds by name.
pub const JNA_CLASSES: [&str; 6] = [
    "com.sun.jna.Native",
    "com.sun.jna.Pointer",
    "com.sun.jna.Structure",
    "com.sun.jna.Callback",
    "com.sun.jna.CallbackReference",
    "com.sun.jna.NativeLong",
];

/// Kotlin supertypes that make a declaration reflected on, with their binary names.
const JNA_BASES: [(&str, &str); 6] = [
    ("Structure", "com.sun.jna.Structure"),
    ("Structure.ByValue", "com.sun.jna.Structure$ByValue"),
    ("Structure.ByReference", "com.sun.jna.Structure$ByReference"),
    ("Callback", "com.sun.jna.Callback"),
    ("com.sun.jna.Callback", "com.sun.jna.Callback"),
    ("com.sun.jna.Structure", "com.sun.jna.Structure"),
];

/// One class, object or interface declaration of the Kotlin file.
#[derive(Debug)]
struct Declaration {
    name: String,
    /// The supertypes as written (`Structure()`, `UniffiRustCallStatus()` without the call).
    supers: Vec<String>,
}

/// Every class the generated Kotlin (`source`) needs kept.
pub fn needed_classes(source: &str) -> Vec<Needed> {
    let package = source
        .lines()
        .find_map(|line| line.trim().strip_prefix("package "))
        .map(str::trim)
        .unwrap_or_default();
    let declarations = declarations(source, package);
    let binary: std::collections::HashMap<String, String> = declarations
        .iter()
        .map(|d| {
            (
                d.name
                    .rsplit(['.', '$'])
                    .next()
                    .unwrap_or(&d.name)
                    .to_string(),
                d.name.clone(),
            )
        })
        .collect();
    // The binary name of a supertype as written, where it is one of ours or JNA's.
    let resolve = |written: &str| -> Option<String> {
        JNA_BASES
            .iter()
            .find(|(kotlin, _)| *kotlin == written)
            .map(|(_, name)| name.to_string())
            .or_else(|| binary.get(written).cloned())
    };
    let supertypes_of = |start: &Declaration| -> Vec<String> {
        let mut found: Vec<String> = Vec::new();
        let mut stack: Vec<String> = start.supers.iter().filter_map(|s| resolve(s)).collect();
        while let Some(name) = stack.pop() {
            if found.contains(&name) {
                continue;
            }
            if let Some(d) = declarations.iter().find(|d| d.name == name) {
                stack.extend(d.supers.iter().filter_map(|s| resolve(s)));
            }
            found.push(name);
        }
        found
    };
    let registered: Vec<&str> = source
        .split("Native.register(")
        .skip(1)
        .filter_map(|rest| rest.split("::class").next())
        .map(str::trim)
        .collect();
    let mut needed = Vec::new();
    for declaration in &declarations {
        let supertypes = supertypes_of(declaration);
        let simple = declaration
            .name
            .rsplit(['.', '$'])
            .next()
            .unwrap_or_default();
        let why = if supertypes.iter().any(|s| s == "com.sun.jna.Structure") {
            "a JNA Structure (fields and constructor by reflection)"
        } else if supertypes.iter().any(|s| s == "com.sun.jna.Callback") {
            "a JNA Callback (its method found by reflection)"
        } else if registered.contains(&simple) {
            "registered with Native.register (external methods bound by name)"
        } else {
            continue;
        };
        needed.push(Needed {
            name: declaration.name.clone(),
            supertypes,
            why,
        });
    }
    needed
}

/// The class, object and interface declarations of a Kotlin file, by binary name (nested ones
/// as `Outer$Inner`), each with its supertypes as written.
fn declarations(source: &str, package: &str) -> Vec<Declaration> {
    let lines: Vec<&str> = source.lines().collect();
    let mut found = Vec::new();
    // (binary name, brace depth inside its body)
    let mut scopes: Vec<(String, i32)> = Vec::new();
    let mut depth = 0;
    let mut index = 0;
    while index < lines.len() {
        let line = strip_strings(lines[index].trim());
        if let Some(name) = declared_name(&line) {
            // The header runs to its body's `{` or to a line that closes it without a body.
            let mut header = line.clone();
            let mut end = index;
            while !header.contains('{') && end + 1 < lines.len() && !header_done(&header) {
                end += 1;
                header.push(' ');
                header.push_str(&strip_strings(lines[end].trim()));
            }
            let outer = scopes.last().map(|(n, _)| n.clone());
            let binary = match outer {
                Some(outer) => format!("{outer}${name}"),
                None if package.is_empty() => name.to_string(),
                None => format!("{package}.{name}"),
            };
            found.push(Declaration {
                name: binary.clone(),
                supers: supertypes(&header),
            });
            for line in &lines[index..=end] {
                depth += braces(&strip_strings(line));
            }
            if header.contains('{') {
                scopes.push((binary, depth));
            }
            index = end + 1;
        } else {
            depth += braces(&line);
            while scopes.last().is_some_and(|(_, d)| depth < *d) {
                scopes.pop();
            }
            index += 1;
        }
        while scopes.last().is_some_and(|(_, d)| depth < *d) {
            scopes.pop();
        }
    }
    found
}

/// The name a line declares with `class`, `object` or `interface` (not `companion object`, not
/// `fun interface` calls, not an object expression `object :`).
fn declared_name(line: &str) -> Option<String> {
    if line.starts_with("//") || line.starts_with('*') || line.starts_with("/*") {
        return None;
    }
    let words: Vec<&str> = line.split_whitespace().collect();
    let at = words
        .iter()
        .position(|w| matches!(*w, "class" | "object" | "interface"))?;
    const MODIFIERS: [&str; 14] = [
        "internal",
        "private",
        "public",
        "protected",
        "open",
        "abstract",
        "sealed",
        "data",
        "enum",
        "inner",
        "annotation",
        "value",
        "fun",
        "final",
    ];
    if !words[..at]
        .iter()
        .all(|w| MODIFIERS.contains(w) || w.starts_with('@'))
    {
        return None;
    }
    let name: String = words
        .get(at + 1)?
        .trim_matches('`')
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .collect();
    (!name.is_empty()).then_some(name)
}

/// Whether a declaration header without `{` is complete (a body-less class or object).
fn header_done(header: &str) -> bool {
    let open = header.matches('(').count();
    let close = header.matches(')').count();
    open == close
        && !header.trim_end().ends_with(',')
        && !header.trim_end().ends_with(':')
        && !header.trim_end().ends_with('(')
}

/// The supertypes after the header's top-level `:` (constructor calls and type arguments
/// dropped).
fn supertypes(header: &str) -> Vec<String> {
    let body_start = header.find('{').unwrap_or(header.len());
    let header = &header[..body_start];
    // The first `:` outside parentheses and angle brackets.
    let mut depth = 0;
    let mut colon = None;
    for (i, c) in header.char_indices() {
        match c {
            '(' | '<' => depth += 1,
            ')' | '>' => depth -= 1,
            ':' if depth == 0 => {
                colon = Some(i);
                break;
            }
            _ => {}
        }
    }
    let Some(colon) = colon else {
        return Vec::new();
    };
    let mut supers = Vec::new();
    let mut current = String::new();
    let mut depth = 0;
    for c in header[colon + 1..].chars() {
        match c {
            '(' | '<' => depth += 1,
            ')' | '>' => depth -= 1,
            ',' if depth == 0 => {
                supers.push(std::mem::take(&mut current));
                continue;
            }
            _ if depth == 0 => current.push(c),
            _ => {}
        }
    }
    supers.push(current);
    supers
        .into_iter()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect()
}

/// The line with string literals blanked, so braces inside strings do not count.
fn strip_strings(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut in_string = false;
    let mut escaped = false;
    for c in line.chars() {
        if in_string {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_string = false;
                out.push('"');
            }
            continue;
        }
        if c == '"' {
            in_string = true;
        }
        out.push(c);
    }
    out
}

fn braces(line: &str) -> i32 {
    if line.starts_with("//") {
        return 0;
    }
    line.matches('{').count() as i32 - line.matches('}').count() as i32
}

/// One `-keep` or `-keepclassmembers` rule.
#[derive(Debug)]
pub struct Rule {
    pub text: String,
    /// `-keep` (class and the listed members) or `-keepclassmembers` (members only).
    keeps_class: bool,
    class: String,
    /// `extends` / `implements` pattern, if any.
    inherits: Option<String>,
    /// Whether the member list keeps every member (`*;`, optionally `public *;`).
    all_members: bool,
}

/// The `-keep` and `-keepclassmembers` rules of a ProGuard file (one rule per line).
pub fn rules(pro: &str) -> Vec<Rule> {
    pro.lines()
        .map(str::trim)
        .filter_map(|line| {
            let (directive, rest) = line.split_once(char::is_whitespace)?;
            let keeps_class = match directive {
                "-keep" => true,
                "-keepclassmembers" => false,
                _ => return None,
            };
            let (head, members) = match rest.split_once('{') {
                Some((head, members)) => (head, members.trim_end_matches('}').trim()),
                None => (rest, ""),
            };
            let words: Vec<&str> = head.split_whitespace().collect();
            let at = words
                .iter()
                .position(|w| matches!(*w, "class" | "interface" | "enum"))?;
            let class = words.get(at + 1)?.to_string();
            let inherits = words
                .iter()
                .position(|w| matches!(*w, "extends" | "implements"))
                .and_then(|i| words.get(i + 1))
                .map(|s| s.to_string());
            let all_members = members
                .split(';')
                .map(str::trim)
                .any(|m| m == "*" || m == "public *");
            Some(Rule {
                text: line.to_string(),
                keeps_class,
                class,
                inherits,
                all_members,
            })
        })
        .collect()
}

/// Whether a ProGuard class name pattern matches a binary class name: `**` any characters,
/// `*` any characters but `.`, `?` one character but `.`; `*` alone is any class in any package
/// (ProGuard keeps that meaning for compatibility).
pub fn pattern_matches(pattern: &str, name: &str) -> bool {
    if pattern == "*" {
        return true;
    }
    fn go(p: &[u8], n: &[u8]) -> bool {
        match p {
            [] => n.is_empty(),
            [b'*', b'*', rest @ ..] => (0..=n.len()).any(|i| go(rest, &n[i..])),
            [b'*', rest @ ..] => (0..=n.len())
                .take_while(|&i| i == 0 || n[i - 1] != b'.')
                .any(|i| go(rest, &n[i..])),
            [b'?', rest @ ..] => n.first().is_some_and(|c| *c != b'.') && go(rest, &n[1..]),
            [c, rest @ ..] => n.first() == Some(c) && go(rest, &n[1..]),
        }
    }
    go(pattern.as_bytes(), name.as_bytes())
}

impl Rule {
    fn applies_to(&self, name: &str, supertypes: &[String]) -> bool {
        pattern_matches(&self.class, name)
            && self
                .inherits
                .as_ref()
                .is_none_or(|p| supertypes.iter().any(|s| pattern_matches(p, s)))
    }
}

/// `Ok` when some `-keep` rule keeps the class and some rule keeps all its members; the reason
/// otherwise.
pub fn kept(rules: &[Rule], name: &str, supertypes: &[String]) -> Result<(), String> {
    let applying: Vec<&Rule> = rules
        .iter()
        .filter(|r| r.applies_to(name, supertypes))
        .collect();
    if !applying.iter().any(|r| r.keeps_class) {
        return Err("no -keep rule matches it".into());
    }
    if !applying.iter().any(|r| r.all_members) {
        return Err(format!(
            "its members are not kept ({})",
            applying
                .iter()
                .map(|r| r.text.as_str())
                .collect::<Vec<_>>()
                .join("; ")
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const KOTLIN: &str = r#"package org.example

@Structure.FieldOrder("capacity", "len", "data")
open class RustBuffer : Structure() {
    @JvmField var capacity: Long = 0
    class ByValue: RustBuffer(), Structure.ByValue
    class ByReference: RustBuffer(), Structure.ByReference
    companion object {
        fun x() = "{"
    }
}
internal interface UniffiCallbackInterfaceFree : com.sun.jna.Callback {
    fun callback(`handle`: Long,)
}
@Structure.FieldOrder("handle", "free")
internal open class UniffiVTable(
    @JvmField internal var `free`: UniffiCallbackInterfaceFree? = null,
) : Structure() {
    class UniffiByValue(
        `free`: UniffiCallbackInterfaceFree? = null,
    ): UniffiVTable(`free`,), Structure.ByValue
}
internal object uniffiCallbackInterfaceThing {
    internal object uniffiFree: UniffiCallbackInterfaceFree {
        override fun callback(handle: Long) {}
    }
}
internal object UniffiLib {
    init {
        Native.register(UniffiLib::class.java, findLibraryName(componentName = "x"))
    }
    external fun f(): Long
}
class Plain(val x: Int) : Exception()
"#;

    #[test]
    fn finds_what_jna_reflects_on() {
        let names: Vec<String> = needed_classes(KOTLIN).into_iter().map(|n| n.name).collect();
        assert_eq!(
            names,
            [
                "org.example.RustBuffer",
                "org.example.RustBuffer$ByValue",
                "org.example.RustBuffer$ByReference",
                "org.example.UniffiCallbackInterfaceFree",
                "org.example.UniffiVTable",
                "org.example.UniffiVTable$UniffiByValue",
                "org.example.uniffiCallbackInterfaceThing$uniffiFree",
                "org.example.UniffiLib",
            ]
        );
    }

    #[test]
    fn matches_proguard_patterns() {
        assert!(pattern_matches("org.example.**", "org.example.A$B"));
        assert!(pattern_matches("org.example.*", "org.example.A$B"));
        assert!(!pattern_matches("org.example.*", "org.example.sub.A"));
        assert!(pattern_matches("*", "org.example.A"));
        assert!(!pattern_matches("com.sun.jna.**", "org.example.A"));
    }

    #[test]
    fn checks_rules() {
        let rules = rules(
            "# c\n-keep class com.sun.jna.** { *; }\n-keep class org.example.Named\n\
             -keep class * implements com.sun.jna.Callback { *; }\n\
             -keep,allowobfuscation class org.example.Obf { *; }\n",
        );
        assert!(kept(&rules, "com.sun.jna.Native", &[]).is_ok());
        assert!(kept(&rules, "org.example.Named", &[]).is_err());
        assert!(kept(&rules, "org.example.Cb", &["com.sun.jna.Callback".into()]).is_ok());
        assert!(kept(&rules, "org.example.Obf", &[]).is_err());
    }
}
