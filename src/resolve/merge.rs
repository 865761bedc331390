//! Deep merge of service layers, keeping provenance.
//!
//! Rules (later layer = overlay):
//! - mappings merge key by key, recursively;
//! - `key: null` deletes the key;
//! - lists whose items are all mappings with a `name` (on both sides) merge by name: items
//!   with the same name merge, new names are appended in order;
//! - any other list, and every scalar, replaces; an empty list always replaces (clears);
//! - a value tagged `!replace` replaces whatever was there, mapping or list, without merging;
//! - the body of a patch (`patches[].patch`) is taken as written: it replaces, keeping its
//!   nulls (a merge patch's way to delete a field).
//!
//! The winner of every replacement records the origins it overrode.

use crate::node::{Node, Value};

pub fn merge(base: &mut Node, overlay: Node) {
    if overlay.replace || overlay.verbatim {
        replace(base, overlay);
        return;
    }
    let both_maps = matches!(
        (&base.value, &overlay.value),
        (Value::Map(_), Value::Map(_))
    );
    let named_lists = match (&base.value, &overlay.value) {
        (Value::Seq(b), Value::Seq(o)) => !o.is_empty() && is_named(b) && is_named(o),
        _ => false,
    };
    if both_maps {
        let (Value::Map(target), Value::Map(source)) = (&mut base.value, overlay.value) else {
            return;
        };
        for (key, value) in source {
            if value.is_null() {
                target.shift_remove(&key);
                continue;
            }
            match target.get_mut(&key) {
                Some(existing) => merge(existing, value),
                None => {
                    let mut value = value;
                    value.strip_nulls();
                    target.insert(key, value);
                }
            }
        }
    } else if named_lists {
        let (Value::Seq(target), Value::Seq(source)) = (&mut base.value, overlay.value) else {
            return;
        };
        for item in source {
            let name = item_name(&item).map(str::to_owned);
            match target.iter_mut().find(|t| item_name(t) == name.as_deref()) {
                Some(existing) => {
                    // The name only matched the item; it did not set it.
                    let mut item = item;
                    if let Some(map) = item.as_map_mut() {
                        map.shift_remove("name");
                    }
                    merge(existing, item);
                }
                None => {
                    let mut item = item;
                    item.strip_nulls();
                    target.push(item);
                }
            }
        }
    } else {
        replace(base, overlay);
    }
}

fn replace(base: &mut Node, mut overlay: Node) {
    let mut overridden = Vec::with_capacity(1 + base.overridden.len());
    overridden.push(base.origin.clone());
    overridden.append(&mut base.overridden);
    overlay.overridden = overridden;
    overlay.strip_nulls();
    *base = overlay;
}

fn item_name(node: &Node) -> Option<&str> {
    node.get("name").and_then(Node::as_scalar_text)
}

fn is_named(items: &[Node]) -> bool {
    items.iter().all(|i| item_name(i).is_some())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::origin::SourceFile;
    use crate::yaml::read::{Limits, parse};

    fn node(path: &str, text: &str) -> Node {
        parse(&SourceFile::new(path, text), Limits::default()).unwrap()
    }

    fn merged(base: &str, overlay: &str) -> Node {
        let mut b = node("base.yaml", base);
        merge(&mut b, node("overlay.yaml", overlay));
        b
    }

    fn json(n: &Node) -> String {
        n.to_json().to_string()
    }

    #[test]
    fn maps_merge_deeply_and_scalars_replace() {
        let m = merged(
            "resources: { requests: { cpu: 250m, memory: 512Mi }, limits: { memory: 1Gi } }\n",
            "resources: { limits: { memory: 2Gi } }\n",
        );
        assert_eq!(
            json(&m),
            r#"{"resources":{"limits":{"memory":"2Gi"},"requests":{"cpu":"250m","memory":"512Mi"}}}"#
        );
        let mem = m
            .get("resources")
            .unwrap()
            .get("limits")
            .unwrap()
            .get("memory")
            .unwrap();
        assert_eq!(mem.origin.to_string(), "overlay.yaml:1:24");
        assert_eq!(mem.overridden[0].to_string(), "base.yaml:1:64");
        let cpu = m
            .get("resources")
            .unwrap()
            .get("requests")
            .unwrap()
            .get("cpu")
            .unwrap();
        assert_eq!(cpu.origin.path(), "base.yaml");
    }

    #[test]
    fn null_deletes() {
        let m = merged("env: { A: a, B: b }\n", "env: { A: null, C: ~ }\n");
        assert_eq!(json(&m), r#"{"env":{"B":"b"}}"#);
    }

    #[test]
    fn plain_lists_replace() {
        let m = merged("args: [a, b]\n", "args: [c]\n");
        assert_eq!(json(&m), r#"{"args":["c"]}"#);
    }

    #[test]
    fn named_lists_merge_by_name() {
        let m = merged(
            "sidecars:\n  - { name: a, port: 1, env: { X: x } }\n  - { name: b, port: 2 }\n",
            "sidecars:\n  - { name: b, port: 3 }\n  - { name: c, port: 4 }\n  - { name: a, env: { Y: y } }\n",
        );
        assert_eq!(
            json(&m),
            r#"{"sidecars":[{"env":{"X":"x","Y":"y"},"name":"a","port":1},{"name":"b","port":3},{"name":"c","port":4}]}"#
        );
        let a = &m.get("sidecars").unwrap().as_seq().unwrap()[0];
        assert_eq!(a.get("name").unwrap().origin.path(), "base.yaml");
    }

    #[test]
    fn empty_list_clears() {
        let m = merged("sidecars: [{ name: a }]\n", "sidecars: []\n");
        assert_eq!(json(&m), r#"{"sidecars":[]}"#);
    }

    #[test]
    fn replace_tag_replaces_maps_and_named_lists() {
        let m = merged("env: { A: a, B: b }\n", "env: !replace { C: c }\n");
        assert_eq!(json(&m), r#"{"env":{"C":"c"}}"#);
        let m = merged(
            "sidecars: [{ name: a, port: 1 }]\n",
            "sidecars: !replace [{ name: b, port: 2 }]\n",
        );
        assert_eq!(json(&m), r#"{"sidecars":[{"name":"b","port":2}]}"#);
    }

    #[test]
    fn type_changes_replace() {
        let m = merged("ingress: { host: a }\n", "ingress: off\n");
        assert_eq!(json(&m), r#"{"ingress":"off"}"#);
    }

    #[test]
    fn overrides_accumulate_along_a_chain() {
        let mut b = node("a.yaml", "replicas: 1\n");
        merge(&mut b, node("b.yaml", "replicas: 2\n"));
        merge(&mut b, node("c.yaml", "replicas: 3\n"));
        let r = b.get("replicas").unwrap();
        assert_eq!(r.origin.path(), "c.yaml");
        let paths: Vec<&str> = r
            .overridden
            .iter()
            .map(crate::origin::Origin::path)
            .collect();
        assert_eq!(paths, ["b.yaml", "a.yaml"]);
    }
}
