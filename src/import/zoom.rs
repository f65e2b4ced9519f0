//! Zoom cloud recordings JSON (`GET /users/{id}/recordings`): one record per
//! meeting, keyed by its uuid, holding the host's e-mail, topic and start time.

use super::dates::parse_date;
use super::ImportError;
use crate::domain::record::SourceRecord;

pub fn parse(file: &str, text: &str, source: &str) -> Result<Vec<SourceRecord>, ImportError> {
    let v: serde_json::Value = serde_json::from_str(text).map_err(|e| {
        ImportError::at(
            file,
            Some(e.line() as u64),
            None,
            format!("not valid JSON: {e}"),
        )
    })?;
    let meetings = match &v {
        serde_json::Value::Array(a) => a.clone(),
        serde_json::Value::Object(o) => o
            .get("meetings")
            .and_then(|m| m.as_array())
            .cloned()
            .ok_or_else(|| {
                ImportError::at(
                    file,
                    None,
                    Some("meetings"),
                    "a Zoom recordings export has a 'meetings' list",
                )
            })?,
        _ => {
            return Err(ImportError::at(
                file,
                Some(1),
                None,
                "expected a Zoom recordings object",
            ))
        }
    };
    let mut out = Vec::new();
    for (i, m) in meetings.iter().enumerate() {
        let s = |k: &str| {
            m.get(k).and_then(|v| {
                v.as_str()
                    .map(str::to_string)
                    .or_else(|| v.as_u64().map(|n| n.to_string()))
            })
        };
        let host = s("host_email").ok_or_else(|| {
            ImportError::at(
                file,
                None,
                Some("host_email"),
                format!("meeting #{} has no host_email", i + 1),
            )
        })?;
        let key = s("uuid")
            .or_else(|| s("id"))
            .unwrap_or_else(|| format!("meeting-{}", i + 1));
        let mut raw = Vec::new();
        for k in [
            "uuid",
            "id",
            "topic",
            "start_time",
            "duration",
            "host_email",
            "share_url",
        ] {
            if let Some(v) = s(k) {
                if v.len() > super::text::MAX_CELL {
                    return Err(ImportError::at(
                        file,
                        None,
                        Some(k),
                        format!("meeting #{}: the value is larger than 32 KiB", i + 1),
                    ));
                }
                raw.push((k.to_string(), v));
            }
        }
        let files = m
            .get("recording_files")
            .and_then(|f| f.as_array())
            .map(|a| a.len())
            .unwrap_or(0);
        raw.push(("recording_files".into(), files.to_string()));
        out.push(SourceRecord {
            source: source.to_string(),
            key,
            names: vec![],
            emails: vec![host],
            phones: vec![],
            company: None,
            last_activity: s("start_time").and_then(|d| parse_date(&d)),
            // "Discovery call – Jürgen Müller (Müller Logistik GmbH)": the
            // topic names a guest the export lists nowhere else.
            mentions: s("topic").into_iter().collect(),
            status: None,
            raw,
            format: "zoom".into(),
            line: i as u64 + 1,
        });
    }
    if out.is_empty() {
        return Err(ImportError::at(
            file,
            None,
            None,
            "the export lists no meetings",
        ));
    }
    Ok(out)
}
