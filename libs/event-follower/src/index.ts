export { type DoorbellConsumer, EventFollower, type EventFollowerSettings, type FollowerSink, type FollowerStatus } from './event-follower';
