"""German and English texts of the pages; the language comes from Accept-Language,
German when the browser prefers neither (the library's users are German first)."""

from __future__ import annotations

from ..links_cache import STATUS_WORDS

LANGUAGES = ("de", "en")

TEXTS: dict[str, tuple[str, str]] = {   # id: (German, English)
    "search": ("Suche", "Search"),
    "search_placeholder": ("Titel, Personen, Zeitung, Volltext … z. B. author:Lohse year:2016..2017",
                           "Title, people, newspaper, full text … e.g. author:Lohse year:2016..2017"),
    "browse": ("Stöbern", "Browse"),
    "add": ("Hinzufügen", "Add"),
    "login": ("Anmelden", "Log in"),
    "logout": ("Abmelden", "Log out"),
    "user": ("Benutzer", "User"),
    "password": ("Passwort", "Password"),
    "results_of": ("{shown} von {total}", "{shown} of {total}"),
    "results_range": ("{first}–{last} von {total}", "{first}–{last} of {total}"),
    "about": ("etwa {n}", "about {n}"),
    "estimated_note": ("Gezählt an einer Stichprobe des Archivs; die Seiten zeigen ihre "
                       "{listed} Treffer. „Alle Ergebnisse“ unten nimmt jeden Treffer.",
                       "Counted on a sample of the archive; the pages show its {listed} "
                       "hits. “All results” below takes every hit."),
    "no_hits": ("Keine Treffer.", "No hits."),
    "newest": ("Neueste zuerst", "Newest first"),
    "oldest": ("Älteste zuerst", "Oldest first"),
    "relevance": ("Relevanz", "Relevance"),
    "title": ("Titel", "Title"),
    "sort": ("Sortierung", "Sort"),
    "previous": ("Zurück", "Previous"),
    "next": ("Weiter", "Next"),
    "page": ("Seite", "Page"),
    "filters": ("Filter", "Filters"),
    "clear_filters": ("Alle Filter entfernen", "Clear all filters"),
    "remove_filter": ("Filter entfernen", "Remove filter"),
    "facet_decade": ("Jahrzehnt", "Decade"),
    "facet_year": ("Jahr", "Year"),
    "facet_type": ("Typ", "Type"),
    "facet_journal": ("Publikation", "Publication"),
    "facet_lang": ("Sprache", "Language"),
    "facet_keyword": ("Schlagwort", "Keyword"),
    "facet_link": ("Linkstatus", "Link status"),
    "select": ("Auswählen", "Select"),
    "select_all_results": ("Alle Ergebnisse dieser Suche", "All results of this search"),
    "selected_only": ("Nur ausgewählte", "Selected only"),
    "cite_export": ("Zitieren & exportieren", "Cite & export"),
    "style": ("Zitierstil", "Citation style"),
    "locale": ("Sprache der Zitate", "Citation locale"),
    "references": ("Literaturangaben", "References"),
    "citations": ("Zitate im Text", "In-text citations"),
    "format": ("Format", "Format"),
    "show_formatted": ("Formatieren", "Format"),
    "download": ("Herunterladen", "Download"),
    "copy": ("Kopieren", "Copy"),
    "copied": ("Kopiert", "Copied"),
    "nothing_selected": ("Nichts ausgewählt: bitte Einträge ankreuzen oder „Alle Ergebnisse“ wählen.",
                         "Nothing selected: tick entries or choose “All results”."),
    "fields": ("Felder", "Fields"),
    "bibtex_source": ("BibTeX-Quelle", "BibTeX source"),
    "snapshot": ("Gespeicherte Kopie", "Snapshot"),
    "snapshot_text": ("Text", "Text"),
    "text_cut": ("Hier steht nur der Anfang des Textes.", "Only the start of the text is shown here."),
    "full_text": ("Ganzen Text öffnen", "Open the full text"),
    "original_page": ("Originalseite (geschützt, ohne Skripte)", "Original page (sandboxed, no scripts)"),
    "provenance": ("Herkunft", "Provenance"),
    "no_snapshot": ("Keine gespeicherte Kopie.", "No snapshot saved."),
    "link_history": ("Linkprüfung", "Link check"),
    "never_checked": ("Noch nie geprüft.", "Never checked."),
    "check_now": ("Link jetzt prüfen", "Check this link now"),
    "similar": ("Ähnliche Clippings", "Similar clippings"),
    "edit": ("Bearbeiten", "Edit"),
    "save": ("Speichern", "Save"),
    "cancel": ("Abbrechen", "Cancel"),
    "rename": ("Umbenennen", "Rename"),
    "new_key": ("Neuer Schlüssel", "New key"),
    "remove": ("Entfernen", "Remove"),
    "remove_confirm": ("Eintrag {key} und seine gespeicherte Kopie wirklich entfernen?",
                       "Really remove entry {key} and its snapshot?"),
    "keywords": ("Schlagwörter", "Keywords"),
    "saved": ("Gespeichert.", "Saved."),
    "conflict": ("Jemand anderes hat diesen Eintrag inzwischen geändert. Ihre Eingaben sind erhalten; "
                 "unten steht die aktuelle Fassung. Prüfen Sie beide und speichern Sie erneut.",
                 "Someone else changed this entry meanwhile. Your input is kept; the current "
                 "version is shown below. Compare and save again."),
    "current_version": ("Aktuelle Fassung", "Current version"),
    "add_title": ("Clipping hinzufügen", "Add a clipping"),
    "add_sources": ("URL, DOI oder ISBN (mehrere: eine pro Zeile)",
                    "URL, DOI or ISBN (several: one per line)"),
    "or_upload": ("… oder eine PDF- oder HTML-Datei hochladen", "… or upload a PDF or HTML file"),
    "fetch": ("Abrufen", "Fetch"),
    "proposed": ("Vorgeschlagener Eintrag", "Proposed entry"),
    "duplicate_of": ("Wahrscheinlich ein Duplikat von", "Likely a duplicate of"),
    "no_duplicate": ("Kein Duplikat gefunden.", "No duplicate found."),
    "add_anyway": ("Trotzdem hinzufügen", "Add anyway"),
    "confirm_add": ("Eintrag speichern", "Save entry"),
    "first_paragraph": ("Anfang der gespeicherten Kopie", "Start of the snapshot"),
    "batch": ("Stapel", "Batch"),
    "batch_progress": ("{done} von {total} verarbeitet", "{done} of {total} done"),
    "bookmarklet": ("Lesezeichen „Clippen“", "“Clip” bookmarklet"),
    "bookmarklet_help": ("Ziehen Sie diesen Link in die Lesezeichenleiste. Auf einer Nachrichtenseite "
                         "angeklickt, schickt er die Seite, wie Ihr Browser sie zeigt, an dieses Formular.",
                         "Drag this link to your bookmarks bar. Clicked on a news page, it sends the "
                         "page as your browser shows it to this form."),
    "clip_this": ("Clippen", "Clip"),
    "read_only": ("Nur lesen", "Read-only"),
    "error": ("Fehler", "Error"),
    "not_found": ("Nicht gefunden", "Not found"),
    # error lines of the pages (a JSON answer keeps the English one)
    "err_csrf": ("Das Sicherheitsmerkmal des Formulars fehlt oder ist abgelaufen; bitte die "
                 "Seite neu laden und es noch einmal versuchen.",
                 "The form's security token is missing or expired; reload the page and "
                 "try again."),
    "err_read_only": ("Dieser Server ist schreibgeschützt.", "This server is read-only."),
    "err_no_facet": ("Keine solche Facette: „{facet}“", "No such facet: “{facet}”"),
    "err_no_snapshot_file": ("Keine solche Datei der gespeicherten Kopie.",
                             "No such snapshot file."),
    "err_proposal_gone": ("Dieser Vorschlag wurde schon gespeichert oder ist abgelaufen; ist "
                          "der Eintrag nicht in der Bibliothek, die Quelle bitte neu hinzufügen.",
                          "This proposal was already saved or has expired; if the entry is "
                          "not in the library, add the source again."),
    "already_saved": ("Dieser Vorschlag war schon gespeichert: hier ist der Eintrag.",
                      "This proposal was already saved: here is its entry."),
    "err_too_large": ("Die hochgeladene Datei ist zu groß (höchstens {mb} MB).",
                      "The upload is too large (at most {mb} MB)."),
    "back_to_add": ("Zurück zum Hinzufügen", "Back to Add"),
    "et_al": ("u. a.", "et al."),
    "back_to_search": ("Zur Suche", "Back to search"),
    "entries": ("Einträge", "entries"),
    "authors": ("Personen", "People"),
    "date": ("Datum", "Date"),
    "publication": ("Publikation", "Publication"),
    "type": ("Typ", "Type"),
    "url": ("URL", "URL"),
    "skip_to_content": ("Zum Inhalt springen", "Skip to content"),
    "login_needed": ("Zum Ändern bitte anmelden.", "Log in to make changes."),
    "login_failed": ("Name oder Passwort falsch.", "Wrong name or password."),
    "login_slow": ("Zu viele Fehlversuche; bitte {seconds} s warten.",
                   "Too many failed attempts; wait {seconds} s."),
    "by_year": ("nach Jahr", "by year"),
    "by_journal": ("nach Publikation", "by publication"),
    "by_keyword": ("nach Schlagwort", "by keyword"),
    "link_ok": ("Link in Ordnung", "Link OK"),
    "menu": ("Menü", "Menu"),
    "link_health": ("Links", "Links"),
    "link_health_title": ("Zustand der Links", "Health of the links"),
    "links_total": ("{checked} von {total} Links geprüft, zuletzt {when}",
                    "{checked} of {total} links checked, last on {when}"),
    "links_none": ("Noch keine Linkprüfung: „clippings check“ im Terminal oder „Link jetzt "
                   "prüfen“ auf einer Eintragsseite.",
                   "No link check yet: run “clippings check” in a terminal, or “Check this "
                   "link now” on an entry page."),
    "statuses": ("Status", "Statuses"),
    "rot_by_year": ("Linkverfall nach Erscheinungsjahr", "Link rot by year of publication"),
    "to_act_on": ("Zu bearbeiten", "To act on"),
    "archive": ("Archivkopie", "Archived copy"),
    "moved_to": ("Neue Adresse", "New address"),
    "status": ("Status", "Status"),
    "show_similar": ("Ähnliche Clippings anzeigen", "Show similar clippings"),
    "fix_fields": ("Bitte die markierten Felder korrigieren; nichts wurde gespeichert.",
                   "Please correct the marked fields; nothing was saved."),
    "removed": ("Eintrag {key} entfernt.", "Entry {key} removed."),
    "checked_at": ("Geprüft am", "Checked on"),
    "check_message": ("Meldung", "Message"),
    "prov_requested_url": ("Angefragte Adresse", "Requested address"),
    "prov_final_url": ("Endgültige Adresse", "Final address"),
    "prov_status": ("HTTP-Status", "HTTP status"),
    "prov_content_type": ("Inhaltstyp", "Content type"),
    "prov_fetched_at": ("Abgerufen am", "Fetched on"),
    "prov_sha256": ("Prüfsumme (SHA-256)", "Checksum (SHA-256)"),
    "prov_extractor": ("Ausgelesen mit", "Read by"),
    "prov_source_file": ("Hochgeladene Datei", "Uploaded file"),
    "prov_via": ("Weg", "Via"),
    "prov_redirects": ("Weiterleitungen", "Redirects"),
    # A field's error in German, before the checker's own (English) words.
    "err_date": ("Kein gültiges Datum.", "Not a valid date."),
    "err_url": ("Keine gültige Webadresse.", "Not a valid web address."),
    "err_names": ("Diese Namensliste ist nicht lesbar.", "This name list cannot be read."),
    "err_isbn": ("Keine gültige ISBN.", "Not a valid ISBN."),
    "err_type": ("Unbekannte Art des Eintrags.", "Unknown entry type."),
    "err_title": ("Ein Eintrag braucht einen Titel.", "An entry needs a title."),
    "err_value": ("Dieser Wert ist ungültig.", "This value is not valid."),
    "hint_date": ("JJJJ-MM-TT, JJJJ-MM oder JJJJ", "YYYY-MM-DD, YYYY-MM or YYYY"),
    "hint_author": ("Nachname, Vorname; mehrere mit „and“ verbunden",
                    "Family, Given; several joined by “and”"),
    "hint_editor": ("Nachname, Vorname; mehrere mit „and“ verbunden",
                    "Family, Given; several joined by “and”"),
    "hint_keywords": ("durch Kommas getrennt", "separated by commas"),
}


# Human names of the BibTeX/biblatex fields; forms and the entry page show these first
# and the field name itself beside them (people who know BibTeX look for it).
FIELD_LABELS: dict[str, tuple[str, str]] = {   # field: (German, English)
    "type": ("Art des Eintrags", "Entry type"),
    "title": ("Titel", "Title"),
    "subtitle": ("Untertitel", "Subtitle"),
    "shorttitle": ("Kurztitel", "Short title"),
    "maintitle": ("Haupttitel", "Main title"),
    "origtitle": ("Originaltitel", "Original title"),
    "booktitle": ("Buchtitel", "Book title"),
    "issuetitle": ("Titel der Ausgabe", "Issue title"),
    "issuesubtitle": ("Untertitel der Ausgabe", "Issue subtitle"),
    "author": ("Autorinnen und Autoren", "Authors"),
    "editor": ("Herausgegeben von", "Editors"),
    "translator": ("Übersetzt von", "Translators"),
    "bookauthor": ("Autorinnen und Autoren des Buchs", "Authors of the book"),
    "date": ("Datum", "Date"),
    "year": ("Jahr", "Year"),
    "month": ("Monat", "Month"),
    "origdate": ("Erstmals erschienen", "First published"),
    "eventdate": ("Datum der Veranstaltung", "Event date"),
    "urldate": ("Abgerufen am", "Accessed on"),
    "journaltitle": ("Zeitung oder Zeitschrift", "Newspaper or journal"),
    "journal": ("Zeitung oder Zeitschrift", "Newspaper or journal"),
    "organization": ("Organisation", "Organization"),
    "institution": ("Institution", "Institution"),
    "publisher": ("Verlag", "Publisher"),
    "location": ("Ort", "Place"),
    "venue": ("Veranstaltungsort", "Venue"),
    "howpublished": ("Veröffentlicht als", "Published as"),
    "entrysubtype": ("Unterart", "Subtype"),
    "series": ("Reihe", "Series"),
    "edition": ("Auflage", "Edition"),
    "volume": ("Band", "Volume"),
    "number": ("Nummer", "Number"),
    "issue": ("Ausgabe", "Issue"),
    "pages": ("Seiten", "Pages"),
    "chapter": ("Kapitel", "Chapter"),
    "url": ("Webadresse", "Web address"),
    "doi": ("DOI", "DOI"),
    "isbn": ("ISBN", "ISBN"),
    "issn": ("ISSN", "ISSN"),
    "eprint": ("E-Print", "E-print"),
    "langid": ("Sprache", "Language"),
    "language": ("Sprache des Textes", "Language of the text"),
    "keywords": ("Schlagwörter", "Keywords"),
    "abstract": ("Zusammenfassung", "Abstract"),
    "note": ("Notiz", "Note"),
    "annotation": ("Anmerkung", "Annotation"),
    "addendum": ("Nachtrag", "Addendum"),
    "pubstate": ("Stand der Veröffentlichung", "Publication state"),
    "file": ("Datei", "File"),
}


# What facet values and badges show instead of BibTeX's and the link check's own words.
VALUE_LABELS: dict[str, dict[str, tuple[str, str]]] = {
    "type": {
        "article": ("Artikel", "Article"), "online": ("Online-Beitrag", "Web page"),
        "report": ("Bericht", "Report"), "techreport": ("Technischer Bericht", "Technical report"),
        "book": ("Buch", "Book"), "booklet": ("Broschüre", "Booklet"),
        "incollection": ("Beitrag in Sammelband", "Chapter in a collection"),
        "inbook": ("Teil eines Buchs", "Part of a book"),
        "collection": ("Sammelband", "Collection"),
        "proceedings": ("Tagungsband", "Proceedings"),
        "inproceedings": ("Tagungsbeitrag", "Conference paper"),
        "periodical": ("Zeitschriftenausgabe", "Periodical issue"),
        "misc": ("Sonstiges", "Other"), "thesis": ("Abschlussarbeit", "Thesis"),
        "phdthesis": ("Dissertation", "PhD thesis"),
        "mastersthesis": ("Masterarbeit", "Master's thesis"),
        "manual": ("Handbuch", "Manual"), "unpublished": ("Unveröffentlicht", "Unpublished"),
        "letter": ("Brief", "Letter"), "video": ("Video", "Video"), "audio": ("Audio", "Audio"),
        "dataset": ("Datensatz", "Dataset"), "software": ("Software", "Software"),
        "patent": ("Patent", "Patent"), "standard": ("Norm", "Standard"),
    },
    "link": {**STATUS_WORDS, "unchecked": ("ungeprüft", "unchecked")},
    "lang": {
        "de": ("Deutsch", "German"), "en": ("Englisch", "English"),
        "ru": ("Russisch", "Russian"), "fr": ("Französisch", "French"),
        "uk": ("Ukrainisch", "Ukrainian"), "pl": ("Polnisch", "Polish"),
        "it": ("Italienisch", "Italian"), "es": ("Spanisch", "Spanish"),
        "nl": ("Niederländisch", "Dutch"), "cs": ("Tschechisch", "Czech"),
    },
}


def value_label(lang: str, facet: str, value) -> str:
    """How a facet value (an entry type, a link status, a language, a decade) reads."""
    text = str(value)
    if facet == "decade" and text.endswith("0s"):
        return text[:-1] + "er" if lang != "en" else text
    pair = VALUE_LABELS.get(facet, {}).get(text.lower())
    if pair is None:
        return text
    return pair[LANGUAGES.index(lang) if lang in LANGUAGES else 0]


ERROR_KINDS = {"date": "err_date", "urldate": "err_date", "origdate": "err_date",
               "eventdate": "err_date", "url": "err_url", "author": "err_names",
               "editor": "err_names", "translator": "err_names", "bookauthor": "err_names",
               "isbn": "err_isbn", "type": "err_type", "title": "err_title"}


def language_name(lang: str, value: str) -> str:
    """A langid such as 'ngerman' in words ('Deutsch'); an unknown one as it is."""
    from ..search.schema import language_code
    return value_label(lang, "lang", language_code(value)) if value.strip() else value


def field_label(lang: str, name: str) -> str:
    """The human name of a field in `lang`; an unknown field keeps its own name."""
    pair = FIELD_LABELS.get(name.lower())
    if pair is None:
        return name
    return pair[LANGUAGES.index(lang) if lang in LANGUAGES else 0]


def pick(accept_language: str | None) -> str:
    """The first of our languages the browser lists (by q-value), else German."""
    best, best_q = "de", -1.0
    for order, part in enumerate((accept_language or "").split(",")):
        tag, _, params = part.strip().partition(";")
        lang = tag.strip().lower().split("-")[0]
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                q = 0.0
        if lang in LANGUAGES and q > best_q:
            best, best_q = lang, q
    return best


def translator(lang: str):
    index = LANGUAGES.index(lang) if lang in LANGUAGES else 0

    def t(text_id: str, **values) -> str:
        pair = TEXTS.get(text_id)
        text = pair[index] if pair else text_id
        return text.format(**values) if values else text
    return t
