"""Post phrasing: templates by sentiment, sentiment words, emoji, comments and spam.

Template slots that become gold mentions: ``{title}`` (full product title), ``{short}``
(model short form, "Stride 9"), ``{brandpl}`` (brand plural, "Korvexes": a mention of the brand),
``{brand}`` (brand name, alias or case variant), ``{tag}`` (``#korvex``), ``{handle}``
(``@korvexrun``), ``{cat}``/``{cats}`` (a category's singular/plural name) and ``{concept}``.
The other slots (``{colour}``, ``{pos}``, ``{neg}``, ``{epos}``, ``{eneg}``, ``{eneu}``, ``{url}``,
``{spamurl}``) are filler.
"""

from __future__ import annotations

POSITIVE: tuple[str, ...] = (
    "Just got the {title} and honestly it's {pos} {epos}",
    "Obsessed with my new {short}! {concept} and looks great in {colour}",
    "Can't stop using my {brandpl} {epos}",
    "{brand} never misses. The {short} is {pos}.",
    "Week 3 with the {title}: still {pos}. {tag}",
    "If you need a new {cat}, get the {short}. Trust me {epos}",
    "10/10 would recommend the {title} {epos}",
    "The {short} from {brand} is {pos}, super {concept}",
    "ok the {short} is {pos} ngl",
    "Finally upgraded my {cat} to the {title} and wow {epos}",
    "Big thanks to {handle} for the {short}, it's {pos} {epos}",
    "My {colour} {short} just arrived and I'm in love {epos}",
    "New favourite {cat}: the {title}. {concept} and worth the price.",
    "Can confirm the hype about {brand} is real. {short} = {pos}",
    "Restocked the {short} because it's {pos} {tag}",
    "{title} review: {concept}, well made, {pos}. Full review here {url}",
    "love love love my {brandpl}{epos}",
    "Who else is obsessed with {brand}? the {short} is {pos}",
    "Three months in and the {short} is still {pos}. {brand} did good.",
    "best purchase this year? the {title}, easily {epos}",
)
NEGATIVE: tuple[str, ...] = (
    "Really disappointed with the {title}. {neg}. {eneg}",
    "The {short} is {neg}, not buying {brand} again",
    "Returned my {short} after a week. Supposed to be {concept} but nope {eneg}",
    "Why is everyone hyping the {title}?? {neg}",
    "{brand} customer service ignored me for 2 weeks and my {short} is still broken {eneg}",
    "Not impressed by the {short}, honestly {neg}",
    "Save your money and skip the {title} {eneg}",
    "My {brandpl} lasted a month. {neg} {tag}",
    "Hey {handle} my {short} arrived damaged, what now? {eneg}",
    "Expected more from {brand}. The {short} feels cheap and is {neg}.",
    "Meh. The {title} is overpriced for a {cat}.",
    "{short} = {neg}. switching brands {eneg}",
    "the {colour} {short} looks nothing like the photos {eneg}",
)
NEUTRAL: tuple[str, ...] = (
    "Anyone tried the {title}? Thinking about getting one",
    "Is the {short} worth it or should I look at other {cats}?",
    "Picked up the {title} today, will report back {eneu}",
    "Comparing the {short} with other {cat} options, any thoughts?",
    "{brand} just dropped the {short} in {colour} {eneu}",
    "Unboxing the {title} later on stream {eneu}",
    "Does the {short} run true to size? asking for a friend",
    "Saw the {title} on sale at {url}",
    "How does the {short} hold up after a few months? {tag}",
    "Day 1 with the {short}. First impressions tomorrow.",
    "{handle} when is the {short} back in stock?",
    "Is the {short} actually {concept} or is that marketing?",
    "{title} or something cheaper? {eneu}",
)
#: Posts about no product, with their own sentiment.
CHATTER: tuple[tuple[str, str], ...] = (
    ("Need recommendations for a {concept} {cat} under 100 {eneu}", "neutral"),
    ("What's everyone's go-to {cat} right now?", "neutral"),
    ("Long week. Coffee and bed.", "neutral"),
    ("Sunday reset: laundry, meal prep, early night ✨", "positive"),
    ("Thinking about trying {brand} for the first time, thoughts?", "neutral"),
    ("Anyone else think {tag} stuff is overpriced?", "negative"),
    ("Huge fan of {brand} lately {epos}", "positive"),
    ("New PB today!! 🙌", "positive"),
    ("Rainy day = gaming day 🎮", "neutral"),
    ("Hot take: every {cat} looks the same now", "negative"),
    ("Does anyone actually care if a {cat} is {concept}?", "neutral"),
    ("So tired of ads for {cats} on my feed {eneg}", "negative"),
)
SPAM: tuple[str, ...] = (
    "🔥 HUGE SALE 🔥 {title} 70% OFF!!! Limited stock, click {spamurl} now",
    "Get the {title} for FREE!!! DM me or visit {spamurl} 💰💰",
    "{brand} {short} giveaway!!! follow + share + click {spamurl}",
)

POS_WORDS: tuple[str, ...] = (
    "amazing",
    "so good",
    "incredible",
    "a game changer",
    "worth every penny",
    "the best I've owned",
    "perfect",
    "chef's kiss",
    "unreal",
    "really great",
)
NEG_WORDS: tuple[str, ...] = (
    "disappointing",
    "a waste of money",
    "falling apart already",
    "overhyped",
    "not worth it",
    "terrible",
    "so flimsy",
    "a total letdown",
)
EMOJI_POS: tuple[str, ...] = ("😍", "🔥", "🙌", "💯", "✨", "❤️", "👌")
EMOJI_NEG: tuple[str, ...] = ("😒", "👎", "😤", "🙄", "😞")
EMOJI_NEU: tuple[str, ...] = ("🤔", "👀", "📦", "🛒")
URLS: tuple[str, ...] = (
    "https://shop.example.com/item",
    "https://bit.ly/3xYz9Q",
    "https://www.example.org/review",
)
SPAM_URL = "http://deals-4-u.example/p"
#: Hashtags that name no entity, by persona index.
PERSONA_TAGS: tuple[tuple[str, ...], ...] = (
    ("#running", "#marathontraining", "#runnersofinstagram"),
    ("#skincare", "#skincareroutine", "#glowup"),
    ("#homecooking", "#coffeetime", "#kitchen"),
    ("#gaming", "#setup", "#pcgaming"),
    ("#ootd", "#style", "#fashion"),
)
COMMENTS: tuple[str, ...] = (
    "love this!",
    "where did you get it?",
    "need this",
    "how's the sizing?",
    "great pic",
    "mine broke after a month tbh",
    "adding to cart",
    "is it worth the price?",
    "so jealous",
    "same here!",
    "thanks for the review",
    "what colour is that?",
)
