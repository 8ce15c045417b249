"""schema.org JSON-LD: Article/NewsArticle/BlogPosting/WebPage objects, `@graph`s, lists,
Person and Organization authors (also by `@id` reference)."""

from __future__ import annotations

from .. import dates
from ..page import Candidates, Page, clean

NEWS = {"newsarticle", "reportagenewsarticle", "analysisnewsarticle", "opinionnewsarticle",
        "reviewnewsarticle", "backgroundnewsarticle", "askpublicnewsarticle",
        "livebloggosting", "liveblogposting"}
ARTICLES = NEWS | {"article", "blogposting", "socialmediaposting", "scholarlyarticle",
                   "techarticle", "report", "review", "posting", "discussionforumposting",
                   "medicalscholarlyarticle", "satiricalarticle", "advertisercontentarticle",
                   "podcastepisode", "episode", "creativework", "event", "product", "recipe",
                   "videoobject", "howto"}
PAGES = {"webpage", "itempage", "collectionpage", "aboutpage", "faqpage", "qapage",
         "profilepage", "medicalwebpage", "searchresultspage", "contactpage"}
ORG_TYPES = {"organization", "newsmediaorganization", "corporation", "governmentorganization",
             "ngo", "educationalorganization", "localbusiness", "website", "brand"}


def types(obj: dict) -> set[str]:
    t = obj.get("@type", "")
    values = t if isinstance(t, list) else [t]
    return {str(v).rsplit("/", 1)[-1].lower() for v in values if v}


def _text(value) -> str:
    if isinstance(value, list):
        value = next((v for v in value if v), "")
    if isinstance(value, dict):
        value = value.get("name") or value.get("@value") or ""
    return clean(value) if isinstance(value, str) else ""


def _main_object(objs: list[dict], url: str) -> dict | None:
    articles = [o for o in objs if types(o) & ARTICLES and (o.get("headline") or o.get("name")
                                                             or o.get("datePublished"))]
    if not articles:
        articles = [o for o in objs if types(o) & PAGES]
    if not articles:
        return None

    def score(o: dict) -> tuple:
        t = types(o)
        own = url and any(url.rstrip("/") == str(_text(o.get(k)) or o.get(k) or "").rstrip("/")
                          for k in ("url", "mainEntityOfPage", "@id") if isinstance(o.get(k), str))
        return (bool(t & NEWS), bool(t & ARTICLES - {"creativework", "event", "product"}),
                bool(own), bool(o.get("datePublished")), bool(o.get("author")))

    return max(articles, key=score)


def _authors(value, by_id: dict[str, dict]) -> list:
    items = value if isinstance(value, list) else [value]
    out: list = []
    for item in items:
        if isinstance(item, dict) and "@id" in item and len(item) <= 2 and item["@id"] in by_id:
            item = by_id[item["@id"]]
        if isinstance(item, str):
            if item.strip() and not item.strip().startswith("http"):
                out.append(clean(item))
        elif isinstance(item, dict):
            name = _text(item.get("name"))
            if not name and (item.get("givenName") or item.get("familyName")):
                name = f"{_text(item.get('givenName'))} {_text(item.get('familyName'))}".strip()
            if not name:
                continue
            out.append(("org", name) if types(item) & ORG_TYPES else name)
    return out


def extract(page: Page) -> Candidates:
    objs = page.jsonld
    if not objs:
        return {}
    by_id = {o["@id"]: o for o in objs if isinstance(o.get("@id"), str)}
    main = _main_object(objs, page.url)
    out: Candidates = {}
    site = next((o for o in objs if types(o) & {"website"} and o.get("name")), None)
    if site:
        out["journaltitle"] = _text(site.get("name"))
    if main is None:
        return {k: v for k, v in out.items() if v}
    t = types(main)
    is_page = bool(t & PAGES) and not t & ARTICLES
    out["title"] = _text(main.get("headline")) or _text(main.get("name"))
    out["subtitle"] = _text(main.get("alternativeHeadline"))
    out["author"] = _authors(main.get("author") or main.get("creator"), by_id)
    out["date"] = dates.parse(_text(main.get("datePublished")) or _text(main.get("dateCreated"))
                              or _text(main.get("uploadDate")), page.tz)
    out["modified"] = dates.parse(_text(main.get("dateModified")), page.tz)
    publisher = main.get("publisher") or main.get("sourceOrganization")
    if isinstance(publisher, dict) and "@id" in publisher and publisher["@id"] in by_id:
        publisher = by_id[publisher["@id"]]
    part_of = main.get("isPartOf")
    if isinstance(part_of, dict) and "@id" in part_of and part_of["@id"] in by_id:
        part_of = by_id[part_of["@id"]]
    periodical = _text(part_of) if isinstance(part_of, dict) and types(part_of) & {
        "periodical", "newspaper", "publicationissue", "publicationvolume"} else ""
    out["journaltitle"] = periodical or out.get("journaltitle") or (
        _text(part_of) if isinstance(part_of, dict) and types(part_of) & {"website"} else "")
    out["publisher"] = _text(publisher)
    out["abstract"] = _text(main.get("description"))
    out["lang"] = _text(main.get("inLanguage"))
    if isinstance(main.get("url"), str):
        out["url"] = main["url"].strip()
    if t & NEWS:
        out["kind"] = "newspaper"
    elif t & {"scholarlyarticle", "medicalscholarlyarticle"}:
        out["kind"] = "journal"
    elif t & {"report"}:
        out["kind"] = "report"
    elif t & {"blogposting", "socialmediaposting", "posting", "discussionforumposting"}:
        out["kind"] = "blog"
    elif is_page:
        out["kind"] = "webpage"
    elif t & {"article"}:
        out["kind"] = "article"
    ident = main.get("identifier") or main.get("sameAs")
    for v in ident if isinstance(ident, list) else [ident]:
        s = _text(v) if not isinstance(v, str) else v
        if s and "10." in s and ("doi" in s.lower() or s.startswith("10.")):
            out["doi"] = s[s.index("10."):].strip()
            break
    return {k: v for k, v in out.items() if v}
