//! iCalendar (RFC 5545) files: meetings with their organizer and attendees.
//!
//! Parsing, recurrence expansion (RRULE, RDATE, EXDATE, overridden
//! instances) and time-zone resolution (TZID, VTIMEZONE, the Windows zone
//! names Exchange writes) are the `calcard` crate's. This module decides what
//! counts as a meeting and fills the gaps calcard leaves:
//!
//! - calcard matches an overridden instance to its series by SEQUENCE and
//!   RECURRENCE-ID across the whole calendar, not by UID; an override saved
//!   with a newer SEQUENCE than its series (what every client writes) would
//!   count twice. Events are therefore expanded one UID at a time, without
//!   their SEQUENCE.
//! - calcard compares a UTC `UNTIL` with the local times of a zoned series,
//!   dropping the last occurrence east of Greenwich; `UNTIL` is rewritten in
//!   the series' own zone first.
//! - Expansion runs forward from DTSTART; series without an end are cut at
//!   `now` (plus a margin) and at [`MAX_OCCURRENCES`] per series.
//! - A VTIMEZONE with a made-up TZID ("Customized Time Zone", as Outlook
//!   writes) is matched to an IANA zone by its offsets; `X-WR-TIMEZONE`
//!   (Google's exports) is the zone of floating times; other floating times
//!   are taken as UTC.
//! - Invitations found in a mailbox come in several versions (updates,
//!   cancellations): per UID and RECURRENCE-ID the highest SEQUENCE (then
//!   DTSTAMP) wins, so a rescheduled meeting counts once, at its final time,
//!   and a cancelled one not at all.
//!
//! Only metadata is read: UID, times, status, organizer and attendees. The
//! SUMMARY, DESCRIPTION, LOCATION and attachments are never copied anywhere.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use calcard::common::PartialDateTime;
use calcard::common::timezone::Tz;
use calcard::icalendar::{
    ICalendar, ICalendarComponent, ICalendarComponentType, ICalendarEntry, ICalendarMethod,
    ICalendarParameter, ICalendarParameterName, ICalendarParameterValue,
    ICalendarParticipationStatus, ICalendarProperty, ICalendarStatus, ICalendarUserTypes,
    ICalendarValue,
};
use calcard::{Entry, Parser};
use chrono::{Offset, TimeZone};
use renmai_graph::{Email, InteractionKind, Timestamp};

use super::{IngestError, Observations, ObservedInteraction, PersonHint, SourcePos, decode};

/// At most this many occurrences of one recurring series are expanded (a
/// daily meeting for 27 years); the rest is reported as skipped.
pub const MAX_OCCURRENCES: usize = 10_000;

/// Reads a `.ics` file, or every `.ics` file under a folder (recursively,
/// in name order). Each past occurrence (start ≤ `now`) of an event with an
/// ORGANIZER and at least one other attendee becomes a meeting at its start,
/// initiated by the organizer, keyed `ics:{UID}@{start, RFC 3339 UTC}`.
///
/// Not meetings, skipped with the reason: cancelled events and cancelled
/// occurrences, all-day events, events without an organizer or without
/// another attendee, events without a UID or a usable DTSTART. Not people:
/// attendees who declined, rooms and resources (`CUTYPE=ROOM|RESOURCE`),
/// groups (`CUTYPE=GROUP`, a mailing list), attendees without an e-mail
/// address. A calendar that is an attendee's reply (`METHOD:REPLY`,
/// `COUNTER`...) holds no meeting of its own.
///
/// A single file that cannot be decoded or holds no calendar is
/// [`IngestError::Unreadable`]; inside a folder such a file is reported as
/// skipped and the others are read.
pub fn read_ics(path: &Path, now: Timestamp, out: &mut Observations) -> Result<(), IngestError> {
    let mut seen = HashSet::new();
    if path.is_dir() {
        let mut files = Vec::new();
        collect_files(path, &mut files).map_err(|e| IngestError::unreadable(path.display(), e))?;
        files.sort();
        for file in files {
            let name = super::display_path(&file);
            out.begin_file(&name);
            if let Err(e) = read_one(&file, now, &mut seen, out) {
                out.skip(
                    SourcePos {
                        file: name,
                        line: 0,
                    },
                    unreadable_reason(e),
                );
            }
            out.end_file();
        }
        Ok(())
    } else {
        out.begin_file(&super::display_path(path));
        let r = read_one(path, now, &mut seen, out);
        out.end_file();
        r
    }
}

fn unreadable_reason(e: IngestError) -> String {
    match e {
        IngestError::Unreadable { reason, .. } => reason,
        other => other.to_string(),
    }
}

fn collect_files(dir: &Path, files: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            collect_files(&path, files)?;
        } else if path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| e.eq_ignore_ascii_case("ics") || e.eq_ignore_ascii_case("ical"))
        {
            files.push(path);
        }
    }
    Ok(())
}

fn read_one(
    path: &Path,
    now: Timestamp,
    seen: &mut HashSet<String>,
    out: &mut Observations,
) -> Result<(), IngestError> {
    let name = super::display_path(path);
    let bytes = std::fs::read(path).map_err(|e| IngestError::unreadable(&name, e))?;
    read_bytes(name, &bytes, now, seen, out)
}

/// [`read_ics`] of one file's bytes; `name` names it in positions and errors.
pub fn read_ics_bytes(
    name: Arc<str>,
    bytes: &[u8],
    now: Timestamp,
    out: &mut Observations,
) -> Result<(), IngestError> {
    out.begin_file(&name);
    let r = read_bytes(name, bytes, now, &mut HashSet::new(), out);
    out.end_file();
    r
}

fn read_bytes(
    name: Arc<str>,
    bytes: &[u8],
    now: Timestamp,
    seen: &mut HashSet<String>,
    out: &mut Observations,
) -> Result<(), IngestError> {
    let text = decode::text(&name, bytes)?;
    let mut cals = Calendars::default();
    let events = cals.add_text(
        &text,
        &|line| SourcePos {
            file: name.clone(),
            line,
        },
        out,
    );
    match events {
        None => Err(IngestError::unreadable(
            &name,
            "no iCalendar data in it (no BEGIN:VCALENDAR)",
        )),
        Some(n) => {
            out.count_read(n);
            cals.finish(now, seen, out);
            Ok(())
        }
    }
}

/// Calendars collected from one or more texts (a file, or every invitation
/// in a mailbox), expanded into meetings by [`Calendars::finish`].
#[derive(Default)]
pub(crate) struct Calendars {
    groups: Vec<Group>,
    by_uid: HashMap<String, usize>,
}

/// Every version of one event (one UID): its series and overridden instances.
struct Group {
    uid: String,
    master: Option<Version>,
    overrides: Vec<(String, Version)>,
    timezones: Vec<ICalendarComponent>,
}

struct Version {
    comp: ICalendarComponent,
    pos: SourcePos,
    /// SEQUENCE, then DTSTAMP: the newer version of the same event wins.
    rank: (i64, i64),
    /// Sent as a cancellation (`METHOD:CANCEL`).
    cancelled: bool,
}

impl Calendars {
    /// Adds every calendar in `text`; `pos(line)` names a line of it.
    /// Returns the number of VEVENTs read, or `None` when the text holds no
    /// calendar at all.
    pub(crate) fn add_text(
        &mut self,
        text: &str,
        pos: &dyn Fn(u32) -> SourcePos,
        out: &mut Observations,
    ) -> Option<usize> {
        let lines = vevent_lines(text);
        let mut next_line = lines.iter().copied();
        let mut found = false;
        let mut events = 0;
        let mut parser = Parser::new(text);
        loop {
            match parser.entry() {
                Entry::ICalendar(ical) => {
                    found = true;
                    events += self.add_calendar(&ical, &mut next_line, pos, out);
                }
                Entry::Eof => break,
                Entry::TooManyComponents => {
                    out.skip(pos(0), "too many components in one calendar");
                    break;
                }
                // Lines outside a calendar, a stray END: the parser goes on.
                _ => {}
            }
        }
        found.then_some(events)
    }

    fn add_calendar(
        &mut self,
        ical: &ICalendar,
        lines: &mut dyn Iterator<Item = u32>,
        pos: &dyn Fn(u32) -> SourcePos,
        out: &mut Observations,
    ) -> usize {
        let mut method = None;
        let mut floating_zone = None;
        if let Some(root) = ical.components.first()
            && root.component_type == ICalendarComponentType::VCalendar
        {
            for e in &root.entries {
                match (&e.name, e.values.first()) {
                    (ICalendarProperty::Method, Some(ICalendarValue::Method(m))) => {
                        method = Some(m.clone())
                    }
                    (ICalendarProperty::Other(n), Some(v))
                        if n.eq_ignore_ascii_case("X-WR-TIMEZONE") =>
                    {
                        floating_zone = v
                            .as_text()
                            .map(str::trim)
                            .filter(|t| t.parse::<Tz>().is_ok())
                            .map(str::to_owned);
                    }
                    _ => {}
                }
            }
        }
        let timezones: Vec<ICalendarComponent> = ical
            .components
            .iter()
            .filter(|c| c.component_type == ICalendarComponentType::VTimezone)
            .map(|c| with_resolvable_zone(c, ical))
            .collect();
        let mut events = 0;
        for comp in &ical.components {
            if comp.component_type != ICalendarComponentType::VEvent {
                continue;
            }
            events += 1;
            let at = pos(lines.next().unwrap_or(0));
            if matches!(
                method,
                Some(
                    ICalendarMethod::Reply
                        | ICalendarMethod::Counter
                        | ICalendarMethod::Refresh
                        | ICalendarMethod::Declinecounter
                )
            ) {
                out.skip(at, "an attendee's reply to an invitation, not a meeting");
                continue;
            }
            let Some(uid) = comp.uid().map(str::trim).filter(|u| !u.is_empty()) else {
                out.skip(at, "event without a UID");
                continue;
            };
            let rid = comp
                .property(&ICalendarProperty::RecurrenceId)
                .and_then(|e| e.values.first())
                .and_then(|v| v.as_partial_date_time())
                .and_then(|d| d.to_date_time())
                .map(|d| d.date_time.to_string());
            let mut comp = comp.clone();
            if let Some(zone) = &floating_zone {
                pin_floating_times(&mut comp, zone);
            }
            let rank = (
                integer(&comp, &ICalendarProperty::Sequence).unwrap_or(0),
                comp.property(&ICalendarProperty::Dtstamp)
                    .and_then(|e| e.values.first())
                    .and_then(|v| v.as_partial_date_time())
                    .and_then(|d| d.to_timestamp())
                    .unwrap_or(0),
            );
            let version = Version {
                comp,
                pos: at,
                rank,
                cancelled: matches!(method, Some(ICalendarMethod::Cancel)),
            };
            let gi = *self.by_uid.entry(uid.to_owned()).or_insert_with(|| {
                self.groups.push(Group {
                    uid: uid.to_owned(),
                    master: None,
                    overrides: Vec::new(),
                    timezones: Vec::new(),
                });
                self.groups.len() - 1
            });
            let g = &mut self.groups[gi];
            for tz in &timezones {
                if !g.timezones.iter().any(|t| tzid(t) == tzid(tz)) {
                    g.timezones.push(tz.clone());
                }
            }
            match rid {
                None => {
                    if g.master.as_ref().is_none_or(|old| is_newer(&version, old)) {
                        g.master = Some(version);
                    }
                }
                Some(rid) => match g.overrides.iter_mut().find(|(r, _)| *r == rid) {
                    Some((_, old)) => {
                        if is_newer(&version, old) {
                            *old = version;
                        }
                    }
                    None => g.overrides.push((rid, version)),
                },
            }
        }
        events
    }

    /// Expands every collected event into its past meetings. `seen` holds the
    /// keys already observed (this import, other files): each counts once.
    pub(crate) fn finish(self, now: Timestamp, seen: &mut HashSet<String>, out: &mut Observations) {
        for g in self.groups {
            expand_group(g, now, seen, out);
        }
    }
}

/// A later SEQUENCE (then DTSTAMP) wins; a cancellation wins over a request
/// of the same rank (Exchange sends both with the same SEQUENCE).
fn is_newer(v: &Version, old: &Version) -> bool {
    v.rank > old.rank || (v.rank == old.rank && v.cancelled && !old.cancelled)
}

/// Floating date-times of a calendar that names its zone in
/// `X-WR-TIMEZONE` (Google's exports) get that zone as their TZID.
fn pin_floating_times(comp: &mut ICalendarComponent, zone: &str) {
    for e in comp.entries.iter_mut() {
        if !matches!(
            e.name,
            ICalendarProperty::Dtstart
                | ICalendarProperty::Dtend
                | ICalendarProperty::RecurrenceId
                | ICalendarProperty::Exdate
                | ICalendarProperty::Rdate
        ) || e.tz_id().is_some()
        {
            continue;
        }
        let floating = e
            .values
            .first()
            .and_then(|v| v.as_partial_date_time())
            .is_some_and(|d| d.has_time() && !d.has_zone());
        if floating {
            e.params.push(ICalendarParameter {
                name: ICalendarParameterName::Tzid,
                value: ICalendarParameterValue::Text(zone.to_owned()),
            });
        }
    }
}

fn tzid(tz: &ICalendarComponent) -> Option<&str> {
    tz.property(&ICalendarProperty::Tzid)
        .and_then(|e| e.values.first())
        .and_then(|v| v.as_text())
}

fn integer(comp: &ICalendarComponent, prop: &ICalendarProperty) -> Option<i64> {
    comp.property(prop)
        .and_then(|e| e.values.first())
        .and_then(|v| v.as_integer())
}

/// 1-based line numbers of the `BEGIN:VEVENT` lines, in order: calcard keeps
/// components in the order they begin, so the n-th VEVENT it returns starts
/// on the n-th of these lines.
fn vevent_lines(text: &str) -> Vec<u32> {
    text.lines()
        .enumerate()
        .filter(|(_, l)| {
            let l = l.trim_start_matches('\u{feff}').trim();
            l.len() == 12 && l.eq_ignore_ascii_case("BEGIN:VEVENT")
        })
        .map(|(i, _)| u32::try_from(i + 1).unwrap_or(u32::MAX))
        .collect()
}

fn is_cancelled(comp: &ICalendarComponent) -> bool {
    matches!(comp.status(), Some(ICalendarStatus::Cancelled))
}

fn dtstart(comp: &ICalendarComponent) -> Option<(&PartialDateTime, Option<&str>)> {
    let e = comp.property(&ICalendarProperty::Dtstart)?;
    let d = e.values.first()?.as_partial_date_time()?;
    Some((d, e.tz_id()))
}

/// The part of an event's people worth keeping: who organized it and who
/// else was invited and did not decline.
struct People {
    organizer: (Email, Option<String>),
    others: Vec<(Email, Option<String>)>,
}

fn people(comp: &ICalendarComponent) -> Result<People, &'static str> {
    let mut organizer = None;
    let mut others = Vec::new();
    for e in &comp.entries {
        match e.name {
            ICalendarProperty::Organizer if organizer.is_none() => organizer = address(e),
            ICalendarProperty::Attendee => {
                let declined = matches!(
                    e.parameter(&ICalendarParameterName::Partstat),
                    Some(ICalendarParameterValue::Partstat(
                        ICalendarParticipationStatus::Declined
                    ))
                );
                let not_a_person = matches!(
                    e.parameter(&ICalendarParameterName::Cutype),
                    Some(ICalendarParameterValue::Cutype(
                        ICalendarUserTypes::Room
                            | ICalendarUserTypes::Resource
                            | ICalendarUserTypes::Group
                    ))
                );
                if !declined
                    && !not_a_person
                    && let Some(a) = address(e)
                {
                    others.push(a);
                }
            }
            _ => {}
        }
    }
    let organizer = organizer.ok_or("no ORGANIZER with an e-mail address: not a meeting")?;
    others.retain(|(e, _)| *e != organizer.0);
    if others.is_empty() {
        return Err(
            "no attendee besides the organizer (declined, rooms and resources not counted)",
        );
    }
    Ok(People { organizer, others })
}

/// The e-mail address and name of an ORGANIZER or ATTENDEE: the `mailto:`
/// value, else an `EMAIL=` parameter (RFC 7986).
fn address(e: &ICalendarEntry) -> Option<(Email, Option<String>)> {
    let value = e.calendar_address().filter(|a| a.contains('@'));
    let param = e
        .parameter(&ICalendarParameterName::Email)
        .and_then(|p| p.as_text());
    let email = value.and_then(|a| Email::parse(a).ok()).or_else(|| {
        param.and_then(|a| Email::parse(calcard::icalendar::utils::strip_mailto_scheme(a)).ok())
    })?;
    let name = e
        .parameter(&ICalendarParameterName::Cn)
        .and_then(|p| p.as_text())
        .map(|n| n.trim().trim_matches('"').trim().to_owned())
        .filter(|n| !n.is_empty() && !n.eq_ignore_ascii_case(email.as_str()));
    Some((email, name))
}

fn expand_group(g: Group, now: Timestamp, seen: &mut HashSet<String>, out: &mut Observations) {
    let Group {
        uid,
        master,
        overrides,
        timezones,
    } = g;
    if let Some(m) = &master {
        if m.cancelled || is_cancelled(&m.comp) {
            out.skip(m.pos.clone(), "cancelled event");
            return;
        }
        match dtstart(&m.comp) {
            Some((d, _)) if !d.has_time() => {
                out.skip(
                    m.pos.clone(),
                    "all-day event (no time of day): not a meeting",
                );
                return;
            }
            _ => {}
        }
    }
    // The calendar calcard expands: this event's zones, series and overrides.
    let mut ical = ICalendar {
        components: vec![ICalendarComponent {
            component_type: ICalendarComponentType::VCalendar,
            ..Default::default()
        }],
    };
    ical.components.extend(timezones);
    let tz_count = ical.components.len();
    let mut positions = Vec::new();
    let mut cancelled_by_method = Vec::new();
    for v in master
        .into_iter()
        .chain(overrides.into_iter().map(|(_, v)| v))
    {
        let mut comp = v.comp;
        comp.entries
            .retain(|e| e.name != ICalendarProperty::Sequence);
        positions.push(v.pos);
        cancelled_by_method.push(v.cancelled);
        ical.components.push(comp);
    }
    // The series' zone: where its rule runs (calcard expands in local time).
    let series = {
        let resolver = ical.build_tz_resolver().with_default(Tz::UTC);
        ical.components
            .get(tz_count)
            .filter(|c| c.property(&ICalendarProperty::RecurrenceId).is_none())
            .and_then(dtstart)
            .and_then(|(d, tzid)| {
                let start = d.to_date_time()?;
                // A DTSTART in UTC (`Z`) runs its rule in UTC.
                let zone = if start.offset.is_some() {
                    Tz::UTC
                } else {
                    resolver.resolve_or_default(tzid)
                };
                Some((start.date_time, zone))
            })
    };
    let mut future_series = false;
    if let Some((start_local, zone)) = series
        && let Some(comp) = ical.components.get_mut(tz_count)
    {
        let now_local = zone
            .timestamp_opt(now.epoch_seconds(), 0)
            .single()
            .map(|d| d.naive_local())
            .unwrap_or_else(|| now.to_datetime().naive_utc());
        let cap = now_local + chrono::TimeDelta::days(2);
        for e in comp.entries.iter_mut() {
            if e.name != ICalendarProperty::Rrule {
                continue;
            }
            let Some(ICalendarValue::RecurrenceRule(rule)) = e.values.first_mut() else {
                continue;
            };
            // UNTIL in the series' own (floating) time.
            let mut until =
                rule.until
                    .as_ref()
                    .and_then(|u| u.to_date_time())
                    .map(|u| match u.offset {
                        Some(o) => {
                            let utc = u.date_time
                                - chrono::TimeDelta::seconds(i64::from(o.local_minus_utc()));
                            zone.from_utc_datetime(&utc).naive_local()
                        }
                        None => u.date_time,
                    });
            // No end, or one after now: stop at now (and a margin).
            if rule.count.is_none() && until.is_none_or(|u| u > cap) {
                until = Some(cap);
            }
            if let Some(u) = until {
                rule.until = Some(PartialDateTime::from_naive_timestamp(
                    u.and_utc().timestamp(),
                ));
                if u < start_local {
                    future_series = true;
                }
            }
        }
        if future_series {
            // It starts after `now`: its rule has no past occurrence.
            comp.entries.retain(|e| e.name != ICalendarProperty::Rrule);
        }
    }
    let mut capped = false;
    let expanded = ical.expand_dates(Tz::UTC, MAX_OCCURRENCES + 1);
    let pos_of = |comp_id: u32| -> Option<&SourcePos> {
        (comp_id as usize)
            .checked_sub(tz_count)
            .and_then(|i| positions.get(i))
    };
    for err in &expanded.errors {
        if let Some(p) = pos_of(err.comp_id) {
            out.skip(p.clone(), format!("unusable event: {}", err.error));
        }
    }
    let mut events = expanded.events;
    if events.len() > MAX_OCCURRENCES {
        capped = true;
    }
    events.sort_by_key(|e| (e.start.timestamp(), e.comp_id));
    // Per component: its people, once resolved (or why it has none).
    let mut resolved: HashMap<u32, Option<(super::PersonRef, Vec<super::PersonRef>)>> =
        HashMap::new();
    let mut reported_cancel = HashSet::new();
    for ev in events.into_iter().take(MAX_OCCURRENCES) {
        let start = ev.start.timestamp();
        if start > now.epoch_seconds() {
            continue;
        }
        let Some(comp) = ical.components.get(ev.comp_id as usize) else {
            continue;
        };
        let Some(pos) = pos_of(ev.comp_id).cloned() else {
            continue;
        };
        let idx = ev.comp_id as usize - tz_count;
        if is_cancelled(comp) || cancelled_by_method.get(idx).copied().unwrap_or(false) {
            if reported_cancel.insert(ev.comp_id) {
                out.skip(pos, "cancelled occurrence");
            }
            continue;
        }
        if dtstart(comp).is_some_and(|(d, _)| !d.has_time()) {
            if reported_cancel.insert(ev.comp_id) {
                out.skip(pos, "all-day event (no time of day): not a meeting");
            }
            continue;
        }
        let at = Timestamp::from_epoch_seconds(start);
        let key = format!("ics:{uid}@{}", at.to_rfc3339());
        if seen.contains(&key) {
            continue;
        }
        let who = resolved
            .entry(ev.comp_id)
            .or_insert_with(|| match people(comp) {
                Ok(p) => {
                    let mut hint = |(email, name): (Email, Option<String>)| {
                        out.person(
                            PersonHint {
                                email: Some(email),
                                name,
                                ..Default::default()
                            },
                            &pos,
                        )
                    };
                    let organizer = hint(p.organizer)?;
                    let mut all = vec![organizer];
                    all.extend(p.others.into_iter().filter_map(&mut hint));
                    Some((organizer, all))
                }
                Err(reason) => {
                    out.skip(pos.clone(), reason);
                    None
                }
            });
        let Some((initiator, participants)) = who.clone() else {
            continue;
        };
        seen.insert(key.clone());
        out.interaction(ObservedInteraction {
            key,
            kind: InteractionKind::Meeting,
            at,
            initiator,
            participants,
            in_reply_to: None,
            source: pos,
        });
    }
    if capped && let Some(p) = positions.first() {
        out.skip(
            p.clone(),
            format!("recurring event expanded to its first {MAX_OCCURRENCES} occurrences only"),
        );
    }
}

/// A VTIMEZONE whose TZID calcard cannot name (Outlook's "Customized Time
/// Zone", a localized name) gets an `X-LIC-LOCATION` naming an IANA zone
/// with the same offsets, which calcard then uses.
fn with_resolvable_zone(tz: &ICalendarComponent, ical: &ICalendar) -> ICalendarComponent {
    let mut tz = tz.clone();
    if tz.timezone().is_some() {
        return tz;
    }
    let mut standard = None;
    let mut daylight = None;
    for id in &tz.component_ids {
        let Some(c) = ical.components.get(*id as usize) else {
            continue;
        };
        let offset = c
            .property(&ICalendarProperty::Tzoffsetto)
            .and_then(|e| e.values.first())
            .and_then(|v| v.as_partial_date_time())
            .map(|o| {
                let s = i32::from(o.tz_hour.unwrap_or(0)) * 3600
                    + i32::from(o.tz_minute.unwrap_or(0)) * 60;
                if o.tz_minus { -s } else { s }
            });
        let month = dtstart(c).and_then(|(d, _)| d.month);
        match c.component_type {
            ICalendarComponentType::Standard => standard = offset.map(|o| (o, month)),
            ICalendarComponentType::Daylight => daylight = offset.map(|o| (o, month)),
            _ => {}
        }
    }
    if let Some(name) = standard.and_then(|(std, _)| iana_zone_for(std, daylight)) {
        tz.entries.push(
            ICalendarEntry::new(ICalendarProperty::Other("X-LIC-LOCATION".into()))
                .with_value(name.to_owned()),
        );
    }
    tz
}

/// An IANA zone with this standard offset and, if given, this daylight
/// offset starting in this month (northern or southern hemisphere).
fn iana_zone_for(standard: i32, daylight: Option<(i32, Option<u8>)>) -> Option<&'static str> {
    let Some((dst, month)) = daylight.filter(|(d, _)| *d != standard) else {
        // Etc/GMT-1 is UTC+1: POSIX signs are inverted.
        let etc = (standard.rem_euclid(3600) == 0).then(|| {
            let h = -standard / 3600;
            if h == 0 {
                "Etc/UTC".to_owned()
            } else {
                format!("Etc/GMT{h:+}")
            }
        });
        return etc
            .and_then(|n| n.parse::<chrono_tz::Tz>().ok())
            .into_iter()
            .chain(
                chrono_tz::TZ_VARIANTS
                    .iter()
                    .copied()
                    .filter(|z| !has_dst(*z)),
            )
            .find(|z| offsets(*z) == (standard, standard))
            .map(|z| z.name());
    };
    let southern = month.is_some_and(|m| m >= 7);
    let want = if southern {
        (dst, standard)
    } else {
        (standard, dst)
    };
    // Zones most calendars mean first, then any other with the same offsets.
    const PREFERRED: &[&str] = &[
        "Europe/Berlin",
        "Europe/London",
        "Europe/Helsinki",
        "America/New_York",
        "America/Chicago",
        "America/Denver",
        "America/Los_Angeles",
        "America/Halifax",
        "America/Anchorage",
        "Australia/Sydney",
        "Australia/Adelaide",
        "Pacific/Auckland",
        "America/Sao_Paulo",
        "America/Santiago",
    ];
    PREFERRED
        .iter()
        .filter_map(|n| n.parse::<chrono_tz::Tz>().ok())
        .chain(chrono_tz::TZ_VARIANTS.iter().copied())
        .find(|z| offsets(*z) == want)
        .map(|z| z.name())
}

/// UTC offsets (seconds) of a zone in mid-January and mid-July 2024.
fn offsets(z: chrono_tz::Tz) -> (i32, i32) {
    let at = |m| {
        chrono::NaiveDate::from_ymd_opt(2024, m, 15)
            .and_then(|d| d.and_hms_opt(12, 0, 0))
            .map(|d| z.offset_from_utc_datetime(&d).fix().local_minus_utc())
            .unwrap_or(i32::MIN)
    };
    (at(1), at(7))
}

fn has_dst(z: chrono_tz::Tz) -> bool {
    let (a, b) = offsets(z);
    a != b
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    fn fixture(name: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/ingest/calendar")
            .join(name)
    }

    fn now() -> Timestamp {
        Timestamp::parse("2025-06-01T00:00:00Z").unwrap()
    }

    /// (key, initiator, participants in order, line) per meeting.
    pub(crate) fn meetings(o: &Observations) -> Vec<(String, String, Vec<String>, u32)> {
        let email = |r: super::super::PersonRef| o.people[r.0 as usize].emails[0].to_string();
        o.interactions
            .iter()
            .map(|ix| {
                (
                    ix.key.clone(),
                    email(ix.initiator),
                    ix.participants.iter().map(|p| email(*p)).collect(),
                    ix.source.line,
                )
            })
            .collect()
    }

    pub(crate) fn skips(o: &Observations) -> Vec<(u32, String)> {
        o.skipped
            .iter()
            .map(|s| (s.source.line, s.reason.clone()))
            .collect()
    }

    fn read(name: &str) -> Observations {
        let mut o = Observations::new();
        read_ics(&fixture(name), now(), &mut o).unwrap();
        o
    }

    fn m(
        key: &str,
        initiator: &str,
        people: &[&str],
        line: u32,
    ) -> (String, String, Vec<String>, u32) {
        (
            key.to_owned(),
            initiator.to_owned(),
            people.iter().map(|p| p.to_string()).collect(),
            line,
        )
    }

    fn s(line: u32, reason: &str) -> (u32, String) {
        (line, reason.to_owned())
    }

    #[test]
    fn weekly_series_with_exdate_override_cancelled_instance_room_and_declined() {
        let o = read("weekly-exdate-override.ics");
        let (a, b, c) = (
            "anna.berg@example.com",
            "bruno.costa@customer.example",
            "chiara.dal@customer.example",
        );
        assert_eq!(
            meetings(&o),
            vec![
                // 10:00 in Berlin (W. Europe Standard Time) is 09:00 UTC in winter.
                m(
                    "ics:weekly-sync-001@example.com@2025-01-06T09:00:00Z",
                    a,
                    &[a, b, c],
                    20
                ),
                // The overridden instance: moved to 14:00, Chiara declined it.
                m(
                    "ics:weekly-sync-001@example.com@2025-01-13T13:00:00Z",
                    a,
                    &[a, b],
                    37
                ),
                // 01-20 is an EXDATE, 01-27 cancelled; 02-03 is the UNTIL itself.
                m(
                    "ics:weekly-sync-001@example.com@2025-02-03T09:00:00Z",
                    a,
                    &[a, b, c],
                    20
                ),
            ]
        );
        assert_eq!(skips(&o), vec![s(49, "cancelled occurrence")]);
        // Rooms and resources are not people; names come from CN.
        let names: Vec<_> = o
            .people
            .iter()
            .map(|p| p.name.as_deref().unwrap_or(""))
            .collect();
        assert_eq!(names, ["Anna Berg", "Bruno Costa", "Chiara Dal"]);
        assert_eq!(o.files[0].read, 3);
        assert_eq!(o.files[0].skipped, 1);
    }

    #[test]
    fn calcard_alone_double_counts_overrides_and_drops_the_until_occurrence() {
        // Why expand_group rewrites SEQUENCE and UNTIL before calling calcard.
        let text = std::fs::read_to_string(fixture("weekly-exdate-override.ics")).unwrap();
        let ical = ICalendar::parse(&text).unwrap();
        let starts: Vec<String> = ical
            .expand_dates(Tz::UTC, 100)
            .events
            .iter()
            .map(|e| Timestamp::from_epoch_seconds(e.start.timestamp()).to_rfc3339())
            .collect();
        assert!(
            !starts.contains(&"2025-02-03T09:00:00Z".to_owned()),
            "{starts:?}"
        );
        assert!(
            starts.contains(&"2025-01-13T09:00:00Z".to_owned()),
            "{starts:?}"
        );
    }

    #[test]
    fn outlook_customized_time_zone_is_matched_by_its_offsets() {
        let mut o = Observations::new();
        let later = Timestamp::parse("2025-12-31T00:00:00Z").unwrap();
        read_ics(&fixture("outlook-custom-zone.ics"), later, &mut o).unwrap();
        let (d, a) = ("dieter.eck@customer.example", "anna.berg@example.com");
        let uid =
            "040000008200E00074C5B7101A82E00800000000C0A1E3B6D37FDB01000000000000000010000000";
        assert_eq!(
            meetings(&o),
            vec![
                // 15:00 at +01:00 in March, 15:00 at +02:00 in July.
                m(&format!("ics:{uid}AB@2025-03-10T14:00:00Z"), d, &[d, a], 21),
                m(&format!("ics:{uid}CD@2025-07-07T13:00:00Z"), d, &[d, a], 35),
            ]
        );
        assert!(o.skipped.is_empty());
        // As of June, the July meeting has not happened yet.
        let o = read("outlook-custom-zone.ics");
        assert_eq!(o.interactions.len(), 1);
        assert_eq!(o.people[0].name.as_deref(), Some("Dieter Eck"));
    }

    #[test]
    fn windows_zone_names_resolve() {
        // ical4j's fixture: TZID "Pacific Standard Time" (Windows Live).
        let o = read("windows-live-ical4j.ics");
        let b = "begendatest01@outlook.com";
        assert_eq!(
            meetings(&o),
            vec![m(
                "ics:0b12874e-0fb7-440a-a1cd-5fe2090c626a@2014-02-21T21:30:00Z",
                b,
                &[b, "roxana.dragavei@gmail.com", "roxana.dragavei@web.de"],
                20
            )]
        );
        // CN equal to the address is no name.
        assert_eq!(o.people[1].name, None);
        assert_eq!(o.people[0].name.as_deref(), Some("Begenda T"));
    }

    #[test]
    fn all_day_cancelled_declined_room_no_organizer_and_future_events_are_not_meetings() {
        let o = read("exclusions.ics");
        let a = "anna.berg@example.com";
        assert_eq!(
            meetings(&o),
            // A person whose address mentions a room is still a person.
            vec![m(
                "ics:kept@example.com@2025-02-13T09:00:00Z",
                a,
                &[a, "meeting-room-lover@customer.example"],
                46
            )]
        );
        assert_eq!(
            skips(&o),
            vec![
                s(4, "all-day event (no time of day): not a meeting"),
                s(12, "cancelled event"),
                s(
                    21,
                    "no attendee besides the organizer (declined, rooms and resources not counted)"
                ),
                s(30, "no ORGANIZER with an e-mail address: not a meeting"),
            ]
        );
        // Nobody is observed from an event that is not a meeting.
        assert_eq!(o.people.len(), 2);
    }

    #[test]
    fn latin1_file_is_decoded() {
        let o = read("latin1.ics");
        let j = "juergen.mueller@kunde.example";
        assert_eq!(
            meetings(&o),
            vec![m(
                "ics:latin1-001@example.com@2025-03-03T13:00:00Z",
                j,
                &[j, "francoise.levy@example.com"],
                4
            )]
        );
        let names: Vec<_> = o.people.iter().map(|p| p.name.clone().unwrap()).collect();
        assert_eq!(names, ["Jürgen Müller", "Françoise Lévy"]);
    }

    #[test]
    fn malformed_events_are_skipped_with_their_line() {
        let o = read("malformed.ics");
        let a = "anna.berg@example.com";
        assert_eq!(
            meetings(&o),
            vec![m(
                "ics:good@example.com@2025-03-02T09:00:00Z",
                a,
                &[a, "bruno.costa@customer.example"],
                22
            )]
        );
        assert_eq!(
            skips(&o),
            vec![
                s(10, "event without a UID"),
                s(4, "unusable event: Missing DTSTART property"),
                s(16, "unusable event: Missing DTSTART property"),
            ]
        );
        // A real Exchange export (ics-parser's fixture) with a VEVENT lacking
        // its UID and another with nothing but one.
        let o = read("exchange-ics-parser.ics");
        assert!(o.interactions.is_empty());
        assert_eq!(
            skips(&o),
            vec![
                s(20, "event without a UID"),
                s(69, "unusable event: Missing DTSTART property"),
            ]
        );
    }

    #[test]
    fn a_file_that_is_no_calendar_is_unreadable_and_a_folder_goes_on() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("notes.ics"), "hello\nworld\n").unwrap();
        std::fs::write(
            dir.path().join("binary.ics"),
            b"\x00\x01\x02\xff\xfe\x00\x07",
        )
        .unwrap();
        let sub = dir.path().join("2025");
        std::fs::create_dir(&sub).unwrap();
        std::fs::copy(fixture("latin1.ics"), sub.join("a.ics")).unwrap();
        // The same event twice: one meeting.
        std::fs::copy(fixture("latin1.ics"), sub.join("b.ICS")).unwrap();
        std::fs::write(sub.join("ignored.txt"), "BEGIN:VCALENDAR").unwrap();

        let mut o = Observations::new();
        let err = read_ics(&dir.path().join("notes.ics"), now(), &mut o).unwrap_err();
        assert!(err.to_string().contains("no iCalendar data"), "{err}");

        let mut o = Observations::new();
        read_ics(dir.path(), now(), &mut o).unwrap();
        assert_eq!(o.interactions.len(), 1);
        let files: Vec<_> = o
            .files
            .iter()
            .map(|f| {
                (
                    Path::new(&f.file)
                        .file_name()
                        .unwrap()
                        .to_str()
                        .unwrap()
                        .to_owned(),
                    f.read,
                    f.skipped,
                )
            })
            .collect();
        assert_eq!(
            files,
            [
                ("a.ics".to_owned(), 1, 0),
                ("b.ICS".to_owned(), 1, 0),
                ("binary.ics".to_owned(), 0, 1),
                ("notes.ics".to_owned(), 0, 1),
            ]
        );
        assert!(
            o.skipped[0].reason.contains("control character"),
            "{:?}",
            o.skipped
        );
        assert_eq!(
            o.skipped[1].reason,
            "no iCalendar data in it (no BEGIN:VCALENDAR)"
        );
    }

    fn read_text(text: &str, now: Timestamp) -> Observations {
        let mut o = Observations::new();
        let mut cals = Calendars::default();
        let pos = |line| SourcePos {
            file: "t.ics".into(),
            line,
        };
        cals.add_text(text, &pos, &mut o).unwrap();
        cals.finish(now, &mut HashSet::new(), &mut o);
        o
    }

    #[test]
    fn google_floating_times_take_x_wr_timezone_and_utc_series_stay_utc() {
        let text = "BEGIN:VCALENDAR\nX-WR-TIMEZONE:America/New_York\nBEGIN:VEVENT\n\
            UID:g1\nDTSTART:20250115T090000\nRRULE:FREQ=DAILY;COUNT=2\n\
            EXDATE:20250116T090000\nRDATE:20250120T090000\n\
            ORGANIZER:mailto:a@x.example\nATTENDEE:mailto:b@y.example\nEND:VEVENT\n\
            BEGIN:VEVENT\nUID:g2\nDTSTART:20250115T090000Z\nRRULE:FREQ=DAILY;COUNT=2\n\
            ORGANIZER:mailto:a@x.example\nATTENDEE:mailto:b@y.example\nEND:VEVENT\nEND:VCALENDAR\n";
        let o = read_text(text, now());
        let keys: Vec<_> = o.interactions.iter().map(|i| i.key.as_str()).collect();
        assert_eq!(
            keys,
            [
                "ics:g1@2025-01-15T14:00:00Z",
                "ics:g1@2025-01-20T14:00:00Z",
                "ics:g2@2025-01-15T09:00:00Z",
                "ics:g2@2025-01-16T09:00:00Z",
            ]
        );
    }

    #[test]
    fn endless_series_stop_at_now_and_at_the_cap() {
        let text = "BEGIN:VCALENDAR\nBEGIN:VEVENT\nUID:daily\nDTSTART:20250101T090000Z\n\
            RRULE:FREQ=DAILY\nORGANIZER:mailto:a@x.example\nATTENDEE:mailto:b@y.example\n\
            END:VEVENT\nBEGIN:VEVENT\nUID:hourly\nDTSTART:20200101T000000Z\n\
            RRULE:FREQ=HOURLY\nORGANIZER:mailto:a@x.example\nATTENDEE:mailto:b@y.example\n\
            END:VEVENT\nEND:VCALENDAR\n";
        let now = Timestamp::parse("2025-01-10T12:00:00Z").unwrap();
        let o = read_text(text, now);
        let daily = o
            .interactions
            .iter()
            .filter(|i| i.key.starts_with("ics:daily@"))
            .count();
        assert_eq!(daily, 10);
        let hourly = o
            .interactions
            .iter()
            .filter(|i| i.key.starts_with("ics:hourly@"))
            .count();
        assert_eq!(hourly, MAX_OCCURRENCES);
        assert_eq!(
            skips(&o),
            vec![s(
                9,
                "recurring event expanded to its first 10000 occurrences only"
            )]
        );
    }

    #[test]
    fn newer_versions_of_an_invitation_win_and_cancellations_cancel() {
        let inv = |method: &str, seq: u32, start: &str, status: &str| {
            format!(
                "BEGIN:VCALENDAR\nMETHOD:{method}\nBEGIN:VEVENT\nUID:inv\nSEQUENCE:{seq}\n\
                 DTSTART:{start}\nSTATUS:{status}\nORGANIZER:mailto:a@x.example\n\
                 ATTENDEE:mailto:b@y.example\nEND:VEVENT\nEND:VCALENDAR\n"
            )
        };
        let pos = |line| SourcePos {
            file: "m".into(),
            line,
        };
        let run = |texts: &[String]| {
            let mut o = Observations::new();
            let mut cals = Calendars::default();
            for t in texts {
                cals.add_text(t, &pos, &mut o).unwrap();
            }
            cals.finish(now(), &mut HashSet::new(), &mut o);
            (
                o.interactions
                    .iter()
                    .map(|i| i.key.clone())
                    .collect::<Vec<_>>(),
                skips(&o),
            )
        };
        let first = inv("REQUEST", 0, "20250301T090000Z", "CONFIRMED");
        let moved = inv("REQUEST", 1, "20250302T090000Z", "CONFIRMED");
        let cancel = inv("CANCEL", 1, "20250302T090000Z", "CONFIRMED");
        let reply = inv("REPLY", 1, "20250302T090000Z", "CONFIRMED");
        assert_eq!(
            run(&[first.clone(), moved.clone()]).0,
            ["ics:inv@2025-03-02T09:00:00Z"]
        );
        // Order does not matter: the older version loses.
        assert_eq!(
            run(&[moved.clone(), first.clone()]).0,
            ["ics:inv@2025-03-02T09:00:00Z"]
        );
        assert_eq!(
            run(&[first.clone(), moved, cancel]),
            (vec![], vec![s(3, "cancelled event")])
        );
        assert_eq!(
            run(&[reply, first]),
            (
                vec!["ics:inv@2025-03-01T09:00:00Z".to_owned()],
                vec![s(3, "an attendee's reply to an invitation, not a meeting")]
            )
        );
    }

    #[test]
    fn garbage_never_panics() {
        let mut seed = 11u64;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for name in [
            "weekly-exdate-override.ics",
            "outlook-custom-zone.ics",
            "exclusions.ics",
        ] {
            let base = std::fs::read(fixture(name)).unwrap();
            for _ in 0..100 {
                let mut b = base.clone();
                for _ in 0..10 {
                    let i = (next() as usize) % b.len();
                    // Printable ASCII and line breaks: mutations calcard sees.
                    b[i] = b" \n:;=,0123456789TZRULEDTSTARTUNTILFREQ-"[(next() as usize) % 39];
                }
                if let Ok(text) = std::str::from_utf8(&b) {
                    let mut o = Observations::new();
                    let mut cals = Calendars::default();
                    let pos = |line| SourcePos {
                        file: "f".into(),
                        line,
                    };
                    let _ = cals.add_text(text, &pos, &mut o);
                    cals.finish(now(), &mut HashSet::new(), &mut o);
                }
            }
        }
    }
}
