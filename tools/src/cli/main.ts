console.log("npc-faces");
