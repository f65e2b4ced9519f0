//! A synthetic corpus for scale tests and benchmarks: a HubSpot contacts
//! export of N believable rows (diacritics, shared e-mails, phones written in
//! several formats). Deterministic for a given N and seed.

use std::io::Write;

const FIRST: &[&str] = &[
    "Jürgen",
    "Ana",
    "Łukasz",
    "Søren",
    "Siobhán",
    "Chloé",
    "Mehmet",
    "Priya",
    "Tomás",
    "Ingrid",
    "Zoë",
    "Lan",
    "Oluwaseun",
    "Fatima",
    "Dmitri",
    "Aoife",
    "Liam",
    "Hannah",
    "Mateus",
    "Élodie",
    "Grace",
    "Kenji",
    "Isabella",
    "Conor",
    "Maja",
    "Ahmed",
    "Sarah",
    "Lars",
    "Niamh",
    "João",
    "Emily",
    "Rafael",
    "Kateřina",
    "Patrick",
    "Yusuf",
    "Ciara",
    "Olivia",
    "Felix",
    "Marta",
    "David",
    "Ruth",
    "Sean",
    "Amélie",
    "Brendan",
    "Bjørn",
    "Małgorzata",
    "François",
    "Ümit",
];
const LAST: &[&str] = &[
    "Müller",
    "García",
    "Nowak",
    "Kierkegaard",
    "O'Connor",
    "Dubois",
    "Yılmaz",
    "Raman",
    "Ó Briain",
    "Bergström",
    "Papadopoulos",
    "Nguyễn",
    "Adeyemi",
    "Al-Sayed",
    "Ivanov",
    "Byrne",
    "Walsh",
    "Schäfer",
    "Gonçalves",
    "Martin",
    "Murphy",
    "Watanabe",
    "Rossi",
    "Kavanagh",
    "Kowalczyk",
    "Hassan",
    "Kelly",
    "Øvergaard",
    "Fitzgerald",
    "Pereira",
    "Clarke",
    "Núñez",
    "Dvořáková",
    "Doyle",
    "Demir",
    "Nolan",
    "Brennan",
    "Strauß",
    "Lindqvist",
    "Okafor",
    "Quinn",
    "Gallagher",
    "Laurent",
    "Healy",
    "Jørgensen",
    "Wójcik",
    "Lefèvre",
    "Öztürk",
];
const COMPANY: &[&str] = &[
    "Acme Ltd",
    "Brightwave",
    "Celtic Data",
    "Dunmore Systems",
    "Éire Analytics",
    "Fjord AS",
    "Grün GmbH",
    "Harbour & Co",
    "Infotrode client",
    "Jade Labs",
];

/// A tiny xorshift generator: reproducible without a dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        xs[(self.next() % xs.len() as u64) as usize]
    }
}

fn ascii(s: &str) -> String {
    crate::domain::fold::folded(s)
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect()
}

/// Writes `n` HubSpot contact rows. About one row in ten repeats an earlier
/// person's e-mail (the same person in another system), so linking has work.
pub fn write_hubspot(out: &mut impl Write, n: usize, seed: u64) -> std::io::Result<()> {
    let mut rng = Rng(seed.max(1));
    writeln!(out, "\"Record ID\",\"First Name\",\"Last Name\",\"Email\",\"Phone Number\",\"Company Name\",\"Last Activity Date\"")?;
    for i in 0..n {
        let (first, last) = (rng.pick(FIRST), rng.pick(LAST));
        let person = if i > 10 && rng.next() % 10 == 0 {
            (rng.next() % i as u64) as usize
        } else {
            i
        };
        let email = format!(
            "{}.{}{}@example{}.com",
            ascii(first),
            ascii(last),
            person,
            person % 7
        );
        let num = 1_000_000 + (person as u64 * 7919) % 8_999_999;
        let phone = match rng.next() % 3 {
            0 => format!("+353 1 {} {:04}", num / 10_000, num % 10_000),
            1 => format!("(01) {}-{:04}", num / 10_000, num % 10_000),
            _ => format!("00353 1{num}"),
        };
        let day = 1 + rng.next() % 28;
        let month = 1 + rng.next() % 12;
        let date = if rng.next() % 2 == 0 {
            format!("2025-{month:02}-{day:02} 10:{:02}", rng.next() % 60)
        } else {
            format!("{month:02}/{day:02}/2025 10:30")
        };
        writeln!(
            out,
            "{},\"{first}\",\"{}\",{email},{phone},\"{}\",{date}",
            100_000 + i,
            last.replace('"', "\"\""),
            rng.pick(COMPANY)
        )?;
    }
    Ok(())
}

/// Opens `n` cases received over the past two years through the operations
/// staff use (so through the team service when one runs), closing as
/// withdrawn those received more than 60 days ago: a queue of that size as
/// it looks after two years' work. Returns (left open, closed).
pub fn open_cases(
    ops: &dyn super::ops::Operations,
    n: usize,
    seed: u64,
) -> Result<(usize, usize), super::DeskError> {
    use crate::domain::closure::Closing;
    use crate::domain::{Channel, NewCase, Outcome, Requester, Right, Step, Subject};
    let mut rng = Rng(seed.max(1));
    let today = chrono::Local::now().date_naive();
    let (mut open, mut closed) = (0, 0);
    for i in 0..n {
        let ago = rng.next() % 730;
        let received = today - chrono::Days::new(ago);
        let (first, last) = (rng.pick(FIRST), rng.pick(LAST));
        let case = ops.open_case(NewCase {
            rights: vec![Right::ALL[(rng.next() % Right::ALL.len() as u64) as usize]],
            channel: Channel::Email,
            received,
            requester: Requester::subject(),
            child: false,
            subject: Subject {
                name: format!("{first} {last}"),
                emails: vec![format!("{}.{}{i}@example.com", ascii(first), ascii(last))],
                phones: vec![],
            },
            records: vec![],
            message: None,
        })?;
        if ago > 60 {
            let step = Step::Close(Closing::new(
                Outcome::Withdrawn,
                "withdrawn by the requester",
            ));
            ops.take_step(case.id, step, None, Some(case.version))?;
            closed += 1;
        } else {
            open += 1;
        }
    }
    Ok((open, closed))
}
