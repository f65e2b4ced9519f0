//! Unicode text in the PDFs the desk writes (the access package, letters):
//! every name exactly as stored, in the font shipped with the desk
//! (`data/fonts/`, DejaVu Sans, with its licence), never a system font.
//!
//! Each PDF embeds a subset of the glyphs it uses as a CID font
//! (Identity-H), with a ToUnicode map so a text extractor (`pdftotext`, a
//! screen reader) returns the very characters written. Every distinct
//! character gets its own CID, mapped to its glyph by a CIDToGIDMap: a
//! character the font has no glyph for is drawn as the empty box but still
//! extracts as itself.

use lopdf::{dictionary, Document, Object, ObjectId, Stream};
use std::collections::BTreeMap;

static REGULAR: &[u8] = include_bytes!("../../data/fonts/DejaVuSans.ttf");
static BOLD: &[u8] = include_bytes!("../../data/fonts/DejaVuSans-Bold.ttf");

/// One of the shipped faces, and what a document has used of it.
pub struct Font {
    data: &'static [u8],
    face: ttf_parser::Face<'static>,
    name: &'static str,
    /// Characters in order of first use: the CID of `chars[i]` is `i + 1`.
    chars: Vec<char>,
    cid_of: BTreeMap<char, u16>,
}

/// The characters of `sample` the shipped faces have no glyph for (the
/// doctor's check that names in every script reach a PDF as themselves).
pub fn missing_glyphs(sample: &str) -> Vec<char> {
    [REGULAR, BOLD]
        .into_iter()
        .filter_map(|data| ttf_parser::Face::parse(data, 0).ok())
        .flat_map(|face| {
            sample
                .chars()
                .filter(|c| !c.is_whitespace() && face.glyph_index(*c).is_none())
                .collect::<Vec<_>>()
        })
        .collect()
}

impl Font {
    pub fn regular() -> Font {
        Font::new(REGULAR, "DejaVuSans")
    }

    pub fn bold() -> Font {
        Font::new(BOLD, "DejaVuSans-Bold")
    }

    fn new(data: &'static [u8], name: &'static str) -> Font {
        Font {
            data,
            face: ttf_parser::Face::parse(data, 0).expect("the shipped font parses"),
            name,
            chars: Vec::new(),
            cid_of: BTreeMap::new(),
        }
    }

    fn glyph(&self, c: char) -> u16 {
        self.face.glyph_index(c).map_or(0, |g| g.0)
    }

    /// A glyph's advance in thousandths of the font size (PDF text space).
    fn advance(&self, glyph: u16) -> f32 {
        let units = f32::from(self.face.units_per_em());
        self.face
            .glyph_hor_advance(ttf_parser::GlyphId(glyph))
            .map_or(0.0, |a| f32::from(a) * 1000.0 / units)
    }

    /// The width of `text` at `size` points.
    pub fn width(&self, text: &str, size: f32) -> f32 {
        text.chars()
            .map(|c| self.advance(self.glyph(c)))
            .sum::<f32>()
            * size
            / 1000.0
    }

    /// `text` as the bytes of a PDF string in this font (two per character).
    pub fn encode(&mut self, text: &str) -> Vec<u8> {
        let mut out = Vec::with_capacity(text.len() * 2);
        for c in text.chars() {
            let cid = match self.cid_of.get(&c) {
                Some(cid) => *cid,
                None => {
                    self.chars.push(c);
                    let cid = self.chars.len() as u16;
                    self.cid_of.insert(c, cid);
                    cid
                }
            };
            out.extend_from_slice(&cid.to_be_bytes());
        }
        out
    }

    /// Writes the font into `doc` (the subset of the glyphs used, its
    /// widths, CID-to-glyph and ToUnicode maps); the Type0 font's id.
    pub fn embed(self, doc: &mut Document) -> std::io::Result<ObjectId> {
        let mut remapper = subsetter::GlyphRemapper::new();
        let glyphs: Vec<u16> = self.chars.iter().map(|c| self.glyph(*c)).collect();
        for g in &glyphs {
            remapper.remap(*g);
        }
        let subset = subsetter::subset(self.data, 0, &remapper)
            .map_err(|e| std::io::Error::other(format!("font subset: {e:?}")))?;
        // CID i+1 draws the subset's glyph for chars[i]; CID 0 is .notdef.
        let mut cid_to_gid = vec![0u8, 0];
        let mut widths = Vec::new();
        for g in &glyphs {
            let new = remapper.get(*g).unwrap_or(0);
            cid_to_gid.extend_from_slice(&new.to_be_bytes());
            widths.push(Object::Real(self.advance(*g)));
        }
        // A subset's name carries a tag of six capitals (PDF 32000 9.6.4),
        // here from the characters it holds, so equal subsets share a name.
        let tag: String = {
            let digest =
                crate::domain::audit::sha256_hex(self.chars.iter().collect::<String>().as_bytes());
            digest
                .bytes()
                .take(6)
                .map(|b| (b'A' + b % 26) as char)
                .collect()
        };
        let base = format!("{tag}+{}", self.name);
        let units = f32::from(self.face.units_per_em());
        let scale = |v: i16| Object::Integer((f32::from(v) * 1000.0 / units).round() as i64);
        let bbox = self.face.global_bounding_box();
        let file = doc.add_object(Stream::new(
            dictionary! { "Length1" => subset.len() as i64 },
            subset,
        ));
        let descriptor = doc.add_object(dictionary! {
            "Type" => "FontDescriptor",
            "FontName" => Object::Name(base.clone().into_bytes()),
            // Symbolic: the glyphs are addressed by CID, not a standard encoding.
            "Flags" => 4,
            "FontBBox" => vec![scale(bbox.x_min), scale(bbox.y_min), scale(bbox.x_max), scale(bbox.y_max)],
            "ItalicAngle" => 0,
            "Ascent" => scale(self.face.ascender()),
            "Descent" => scale(self.face.descender()),
            "CapHeight" => scale(self.face.capital_height().unwrap_or(self.face.ascender())),
            "StemV" => 80,
            "FontFile2" => file,
        });
        let map = doc.add_object(Stream::new(dictionary! {}, cid_to_gid));
        let cid_font = doc.add_object(dictionary! {
            "Type" => "Font",
            "Subtype" => "CIDFontType2",
            "BaseFont" => Object::Name(base.clone().into_bytes()),
            "CIDSystemInfo" => dictionary! {
                "Registry" => Object::string_literal("Adobe"),
                "Ordering" => Object::string_literal("Identity"),
                "Supplement" => 0,
            },
            "FontDescriptor" => descriptor,
            "DW" => 1000,
            "W" => vec![Object::Integer(1), Object::Array(widths)],
            "CIDToGIDMap" => map,
        });
        let to_unicode = doc.add_object(Stream::new(dictionary! {}, self.to_unicode()));
        Ok(doc.add_object(dictionary! {
            "Type" => "Font",
            "Subtype" => "Type0",
            "BaseFont" => Object::Name(base.into_bytes()),
            "Encoding" => "Identity-H",
            "DescendantFonts" => vec![Object::Reference(cid_font)],
            "ToUnicode" => to_unicode,
        }))
    }

    /// The CMap that tells a reader which characters each CID stands for.
    fn to_unicode(&self) -> Vec<u8> {
        let mut cmap = String::from(
            "/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n\
             /CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n\
             /CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n\
             1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n",
        );
        // At most 100 entries per block (PDF 32000 9.10.3).
        for block in self.chars.chunks(100).enumerate() {
            let (n, chars) = block;
            cmap.push_str(&format!("{} beginbfchar\n", chars.len()));
            for (i, c) in chars.iter().enumerate() {
                let cid = n * 100 + i + 1;
                let utf16: String = c
                    .encode_utf16(&mut [0u16; 2])
                    .iter()
                    .map(|u| format!("{u:04X}"))
                    .collect();
                cmap.push_str(&format!("<{cid:04X}> <{utf16}>\n"));
            }
            cmap.push_str("endbfchar\n");
        }
        cmap.push_str("endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n");
        cmap.into_bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_character_has_its_own_code_and_extracts_as_itself() {
        let mut f = Font::regular();
        let a = f.encode("Łukasz");
        let b = f.encode("Łódź");
        // Ł is one CID wherever it appears; six characters, two bytes each.
        assert_eq!(a.len(), 12);
        assert_eq!(a[..2], b[..2]);
        let cmap = String::from_utf8(f.to_unicode()).unwrap();
        // Ł is U+0141.
        assert!(cmap.contains("<0001> <0141>"), "{cmap}");
        // A character outside the font still maps to itself.
        let c = f.encode("漢");
        let cid = u16::from_be_bytes([c[0], c[1]]);
        let cmap = String::from_utf8(f.to_unicode()).unwrap();
        assert!(cmap.contains(&format!("<{cid:04X}> <6F22>")), "{cmap}");
        assert_eq!(f.glyph('漢'), 0, "DejaVu Sans has no CJK: drawn as a box");
    }

    #[test]
    fn widths_are_measured_from_the_font() {
        let f = Font::regular();
        assert!(f.width("WWWW", 10.0) > f.width("iiii", 10.0));
        assert_eq!(f.width("", 10.0), 0.0);
    }
}
