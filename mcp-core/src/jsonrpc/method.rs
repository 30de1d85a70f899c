//! [`Method`]: a request's or notification's method name, held without allocating when it is
//! one that MCP defines.

use std::borrow::Borrow;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::ops::Deref;
use std::sync::Arc;

use serde::de::{self, Deserialize, Deserializer, Visitor};
use serde::{Serialize, Serializer};

use crate::protocol::methods;

/// A JSON-RPC method name, such as `tools/call`.
///
/// It reads as a `&str` (it dereferences to one and compares equal to one), so
/// `request.method == methods::PING` and `match request.method.as_str()` work as with a
/// `String`. A name that MCP defines (every constant of [`methods`]) is held as
/// that constant, so reading a message or building a notification allocates nothing for it;
/// any other name is held in a shared `Arc<str>`, cheap to clone.
///
/// ```
/// use mcp_core::jsonrpc::Method;
/// use mcp_core::protocol::methods;
/// let m = Method::from("tools/call");
/// assert_eq!(m, methods::TOOLS_CALL);
/// assert_eq!(m.as_str(), "tools/call");
/// assert_eq!(Method::from(String::from("x/y")).to_string(), "x/y");
/// ```
#[derive(Clone)]
pub struct Method(Repr);

#[derive(Clone)]
enum Repr {
    Static(&'static str),
    Shared(Arc<str>),
}

impl Method {
    /// A method named by a constant: held as it is, whatever the name.
    pub const fn from_static(name: &'static str) -> Method {
        Method(Repr::Static(name))
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        match &self.0 {
            Repr::Static(name) => name,
            Repr::Shared(name) => name,
        }
    }
}

/// The constant of [`methods`] equal to `name`, if any.
fn defined(name: &str) -> Option<&'static str> {
    use methods::*;
    let known = match name {
        INITIALIZE => INITIALIZE,
        INITIALIZED => INITIALIZED,
        PING => PING,
        TOOLS_LIST => TOOLS_LIST,
        TOOLS_CALL => TOOLS_CALL,
        LOGGING_SET_LEVEL => LOGGING_SET_LEVEL,
        LOG_MESSAGE => LOG_MESSAGE,
        PROGRESS => PROGRESS,
        CANCELLED => CANCELLED,
        TOOLS_LIST_CHANGED => TOOLS_LIST_CHANGED,
        PROMPTS_LIST => PROMPTS_LIST,
        PROMPTS_GET => PROMPTS_GET,
        RESOURCES_LIST => RESOURCES_LIST,
        RESOURCES_TEMPLATES_LIST => RESOURCES_TEMPLATES_LIST,
        RESOURCES_READ => RESOURCES_READ,
        RESOURCES_SUBSCRIBE => RESOURCES_SUBSCRIBE,
        RESOURCES_UNSUBSCRIBE => RESOURCES_UNSUBSCRIBE,
        RESOURCES_UPDATED => RESOURCES_UPDATED,
        COMPLETE => COMPLETE,
        SAMPLING_CREATE_MESSAGE => SAMPLING_CREATE_MESSAGE,
        ELICITATION_CREATE => ELICITATION_CREATE,
        ROOTS_LIST => ROOTS_LIST,
        PROMPTS_LIST_CHANGED => PROMPTS_LIST_CHANGED,
        RESOURCES_LIST_CHANGED => RESOURCES_LIST_CHANGED,
        SERVER_DISCOVER => SERVER_DISCOVER,
        SUBSCRIPTIONS_LISTEN => SUBSCRIPTIONS_LISTEN,
        SUBSCRIPTIONS_ACKNOWLEDGED => SUBSCRIPTIONS_ACKNOWLEDGED,
        TASKS_GET => TASKS_GET,
        TASKS_RESULT => TASKS_RESULT,
        TASKS_LIST => TASKS_LIST,
        TASKS_CANCEL => TASKS_CANCEL,
        TASKS_UPDATE => TASKS_UPDATE,
        TASKS_STATUS => TASKS_STATUS,
        TASKS_NOTIFICATION => TASKS_NOTIFICATION,
        _ => return None,
    };
    Some(known)
}

impl From<&str> for Method {
    fn from(name: &str) -> Self {
        // The usual request's method first: one comparison, not a pass down the list.
        if name == methods::TOOLS_CALL {
            return Method(Repr::Static(methods::TOOLS_CALL));
        }
        match defined(name) {
            Some(name) => Method(Repr::Static(name)),
            None => Method(Repr::Shared(name.into())),
        }
    }
}

impl From<String> for Method {
    fn from(name: String) -> Self {
        // An `Arc<str>` copies the text whether it comes from a `String` or a `&str`.
        Method::from(name.as_str())
    }
}

impl From<&String> for Method {
    fn from(name: &String) -> Self {
        Method::from(name.as_str())
    }
}

impl From<Method> for String {
    fn from(method: Method) -> Self {
        method.as_str().to_owned()
    }
}

impl Deref for Method {
    type Target = str;

    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<str> for Method {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl Borrow<str> for Method {
    fn borrow(&self) -> &str {
        self.as_str()
    }
}

impl PartialEq for Method {
    fn eq(&self, other: &Method) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for Method {}

impl Hash for Method {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_str().hash(state);
    }
}

impl PartialEq<str> for Method {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for Method {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl PartialEq<String> for Method {
    fn eq(&self, other: &String) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<Method> for str {
    fn eq(&self, other: &Method) -> bool {
        self == other.as_str()
    }
}

impl PartialEq<Method> for &str {
    fn eq(&self, other: &Method) -> bool {
        *self == other.as_str()
    }
}

impl PartialEq<Method> for String {
    fn eq(&self, other: &Method) -> bool {
        self == other.as_str()
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl Serialize for Method {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Method {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct MethodVisitor;
        impl Visitor<'_> for MethodVisitor {
            type Value = Method;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a method name")
            }
            fn visit_str<E: de::Error>(self, name: &str) -> Result<Method, E> {
                Ok(Method::from(name))
            }
            fn visit_string<E: de::Error>(self, name: String) -> Result<Method, E> {
                Ok(Method::from(name))
            }
        }
        d.deserialize_str(MethodVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defined_names_are_held_as_their_constants() {
        let m = Method::from("notifications/progress");
        assert!(matches!(m.0, Repr::Static(p) if p == methods::PROGRESS));
        let other = Method::from("vendor/thing");
        assert!(matches!(other.0, Repr::Shared(_)));
        assert_eq!(other, "vendor/thing");
        assert_eq!("vendor/thing", other);
        assert_eq!(Method::from(String::from("ping")), Method::from("ping"));
        let read: Method = serde_json::from_str(r#""tools/c\u0061ll""#).unwrap();
        assert_eq!(read, methods::TOOLS_CALL);
        assert_eq!(serde_json::to_string(&read).unwrap(), r#""tools/call""#);
        assert!(serde_json::from_str::<Method>("1").is_err());
    }

    /// Every constant of `protocol::methods` is in `defined` (a name left out would still
    /// work, as a shared string, but would cost an allocation per message).
    #[test]
    fn every_protocol_method_is_defined() {
        let source = include_str!("../protocol/methods.rs");
        let mut names = 0;
        for line in source.lines() {
            let Some(rest) = line.trim().strip_prefix("pub const ") else {
                continue;
            };
            let value = rest
                .split('"')
                .nth(1)
                .unwrap_or_else(|| panic!("a string constant: {line}"));
            assert_eq!(defined(value), Some(value), "`defined` lacks {value}");
            names += 1;
        }
        assert!(names >= 34, "read the constants of methods.rs ({names})");
    }
}
