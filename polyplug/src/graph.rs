//! Load order for a directory of bundles: providers before the bundles
//! that require them, with cycles and missing providers reported by name.

use std::collections::BTreeSet;

use polyplug_abi::Version;

use crate::LoadError;

/// What ordering needs to know of one bundle.
#[derive(Debug, Clone)]
pub(crate) struct Node {
    pub(crate) name: String,
    pub(crate) provides: Vec<(String, Version)>,
    pub(crate) requires: Vec<(String, Version)>,
}

/// Indices of `nodes` in an order where every bundle comes after the
/// bundles in `nodes` that provide what it requires. A requirement no node
/// provides must be met by `external` (already loaded bundles or host
/// contracts), else it is a missing provider. Ties are broken by name, so
/// the order is deterministic.
pub(crate) fn load_order(
    nodes: &[Node],
    external: impl Fn(&str, Version) -> bool,
) -> Result<Vec<usize>, LoadError> {
    let mut edges: Vec<BTreeSet<usize>> = vec![BTreeSet::new(); nodes.len()];
    for (i, node) in nodes.iter().enumerate() {
        for (contract, version) in &node.requires {
            let providers: Vec<usize> = nodes
                .iter()
                .enumerate()
                .filter(|&(j, other)| {
                    j != i
                        && other
                            .provides
                            .iter()
                            .any(|(n, v)| n == contract && v.satisfies(*version))
                })
                .map(|(j, _)| j)
                .collect();
            if providers.is_empty() && !external(contract, *version) {
                return Err(LoadError::MissingProvider {
                    bundle: node.name.clone(),
                    contract: contract.clone(),
                    version: *version,
                });
            }
            edges[i].extend(providers);
        }
    }
    let mut done = vec![false; nodes.len()];
    let mut order = Vec::with_capacity(nodes.len());
    loop {
        let ready: Option<usize> = (0..nodes.len())
            .filter(|&i| !done[i] && edges[i].iter().all(|&j| done[j]))
            .min_by(|&a, &b| nodes[a].name.cmp(&nodes[b].name));
        match ready {
            Some(i) => {
                done[i] = true;
                order.push(i);
            }
            None if order.len() == nodes.len() => return Ok(order),
            None => {
                return Err(LoadError::DependencyCycle {
                    cycle: find_cycle(nodes, &edges, &done),
                });
            }
        }
    }
}

/// A cycle among the nodes not yet ordered: walk unfinished dependencies
/// until a node repeats.
fn find_cycle(nodes: &[Node], edges: &[BTreeSet<usize>], done: &[bool]) -> Vec<String> {
    let Some(start) = (0..nodes.len()).find(|&i| !done[i]) else {
        return Vec::new();
    };
    let mut path = vec![start];
    let mut current = start;
    loop {
        let Some(&next) = edges[current].iter().find(|&&j| !done[j]) else {
            return path.iter().map(|&i| nodes[i].name.clone()).collect();
        };
        if let Some(pos) = path.iter().position(|&i| i == next) {
            let mut cycle: Vec<String> =
                path[pos..].iter().map(|&i| nodes[i].name.clone()).collect();
            cycle.push(nodes[next].name.clone());
            return cycle;
        }
        path.push(next);
        current = next;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(name: &str, provides: &[&str], requires: &[&str]) -> Node {
        let v = Version::new(1, 0, 0);
        Node {
            name: name.to_owned(),
            provides: provides.iter().map(|p| ((*p).to_owned(), v)).collect(),
            requires: requires.iter().map(|r| ((*r).to_owned(), v)).collect(),
        }
    }

    #[test]
    fn providers_come_first() {
        let nodes = [
            node("c", &["c.x"], &["b.x"]),
            node("a", &["a.x"], &[]),
            node("b", &["b.x"], &["a.x"]),
        ];
        let order = load_order(&nodes, |_, _| false).unwrap();
        let names: Vec<&str> = order.iter().map(|&i| nodes[i].name.as_str()).collect();
        assert_eq!(names, ["a", "b", "c"]);
    }

    #[test]
    fn cycles_are_named() {
        let nodes = [
            node("a", &["a.x"], &["b.x"]),
            node("b", &["b.x"], &["a.x"]),
            node("z", &[], &[]),
        ];
        match load_order(&nodes, |_, _| false) {
            Err(LoadError::DependencyCycle { cycle }) => assert_eq!(cycle, ["a", "b", "a"]),
            other => panic!("expected a cycle, got {other:?}"),
        }
    }

    #[test]
    fn missing_providers_are_named_unless_external() {
        let nodes = [node("a", &[], &["host.log"])];
        match load_order(&nodes, |_, _| false) {
            Err(LoadError::MissingProvider {
                bundle, contract, ..
            }) => {
                assert_eq!((bundle.as_str(), contract.as_str()), ("a", "host.log"));
            }
            other => panic!("expected a missing provider, got {other:?}"),
        }
        assert_eq!(load_order(&nodes, |c, _| c == "host.log").unwrap(), [0]);
    }

    #[test]
    fn a_newer_minor_is_required_strictly() {
        let mut consumer = node("consumer", &[], &[]);
        consumer
            .requires
            .push(("a.x".to_owned(), Version::new(1, 2, 0)));
        let nodes = [node("a", &["a.x"], &[]), consumer];
        assert!(matches!(
            load_order(&nodes, |_, _| false),
            Err(LoadError::MissingProvider { .. })
        ));
    }
}
